/**
 * The policy's forward passes on tfjs-core ops: plain causal (every sequence on its own) and
 * shared-prefix (Prefix Grouper: a prompt encoded once, its G completions attending to its keys and
 * values, completion positions continuing after the prompt). Both give the same log-probabilities
 * and gradients; the shared one does the prompt's work once instead of G times.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { gatherFlat, matMul, oneHotF32 } from '../backends/fixes.js';
import type { TFModule } from '../backends/tf.js';
import type { BlockParams, PolicyParams } from './params.js';

type Tensor = tfc.Tensor;

/** Where a forward pass runs. */
export interface Runner {
  readonly tf: TFModule;
  readonly backend: string;
}

const NEG = -1e9;

export function layerNorm(tf: TFModule, x: Tensor, g: Tensor, b: Tensor): Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
}

/** x [..., d] @ w [d, k] -> [..., k]. */
export function dense(tf: TFModule, x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const shape = x.shape;
  const y = tf.matMul(tf.reshape(x, [-1, shape[shape.length - 1]!]), w);
  const out = tf.reshape(y, [...shape.slice(0, -1), w.shape[1]!]);
  return b === undefined ? out : tf.add(out, b);
}

/** [N, L, d] -> [N * H, L, dh]. */
export function splitHeads(tf: TFModule, x: Tensor, H: number): Tensor {
  const [N, L, d] = x.shape as [number, number, number];
  return tf.reshape(tf.transpose(tf.reshape(x, [N, L, H, d / H]), [0, 2, 1, 3]), [N * H, L, d / H]);
}

/** [N * H, L, dh] -> [N, L, d]. */
export function mergeHeads(tf: TFModule, x: Tensor, N: number, H: number): Tensor {
  const [, L, dh] = x.shape as [number, number, number];
  return tf.reshape(tf.transpose(tf.reshape(x, [N, H, L, dh]), [0, 2, 1, 3]), [N, L, H * dh]);
}

/** An additive causal mask [L, L]: 0 where key <= query, a large negative number elsewhere. */
export function causalMask(tf: TFModule, L: number): Tensor {
  return tf.tensor2d(Array.from({ length: L * L }, (_, i) => ((i % L) <= Math.floor(i / L) ? 0 : NEG)), [L, L]);
}

export function mlp(tf: TFModule, h: Tensor, b: BlockParams): Tensor {
  const a = layerNorm(tf, h, b.ln2g, b.ln2b);
  return tf.add(h, dense(tf, tf.relu(dense(tf, a, b.w1, b.b1)), b.w2, b.b2));
}

/** Token plus position embeddings: ids [N, L] at positions start..start+L-1 -> [N, L, d]. */
export function embed(r: Runner, p: PolicyParams, ids: Int32Array, N: number, L: number, start: number): Tensor {
  const { tf } = r;
  const d = p.config.dModel;
  if (start + L > p.config.maxLen) throw new Error(`sequence of ${start + L} tokens is longer than the policy's maxLen ${p.config.maxLen}`);
  const tok = tf.reshape(gatherFlat(tf, p.tokEmb, ids, r.backend), [N, L, d]);
  return tf.add(tok, tf.slice(p.posEmb, [start, 0], [L, d]));
}

/** Logits [N, L, V] from final hidden states (the head is tied to the token embedding). */
export function head(tf: TFModule, p: PolicyParams, h: Tensor): Tensor {
  const x = layerNorm(tf, h, p.lnfg, p.lnfb);
  const [N, L, d] = x.shape as [number, number, number];
  return tf.reshape(matMul(tf, tf.reshape(x, [N * L, d]), p.tokEmb, false, true), [N, L, p.config.vocab]);
}

/** Queries, keys and values of a block's attention, split into heads [N * H, L, dh]. */
export function qkv(tf: TFModule, h: Tensor, b: BlockParams, H: number): { q: Tensor; k: Tensor; v: Tensor } {
  const a = layerNorm(tf, h, b.ln1g, b.ln1b);
  return { q: splitHeads(tf, dense(tf, a, b.wq), H), k: splitHeads(tf, dense(tf, a, b.wk), H), v: splitHeads(tf, dense(tf, a, b.wv), H) };
}

/** Causal self-attention of [N * H, L, dh] heads: the attended values, same shape. */
export function causalAttention(tf: TFModule, x: { q: Tensor; k: Tensor; v: Tensor }, scale: number, mask: Tensor): Tensor {
  return tf.matMul(tf.softmax(tf.add(tf.mul(matMul(tf, x.q, x.k, false, true), scale), mask)), x.v);
}

/** Causal forward of N sequences of length L (ids row-major [N, L]): logits [N, L, V]. */
export function forward(r: Runner, p: PolicyParams, ids: Int32Array, N: number, L: number): Tensor {
  const { tf } = r;
  const H = p.config.nHeads;
  const scale = 1 / Math.sqrt(p.config.dModel / H);
  const mask = causalMask(tf, L);
  let h = embed(r, p, ids, N, L, 0);
  for (const b of p.blocks) {
    const out = causalAttention(tf, qkv(tf, h, b, H), scale, mask);
    h = mlp(tf, tf.add(h, dense(tf, mergeHeads(tf, out, N, H), b.wo)), b);
  }
  return head(tf, p, h);
}

/** [G * H, R, X] <-> [H, G * R, X]: lets G groups of queries share one prompt's keys per head. */
export function groupsToHeads(tf: TFModule, x: Tensor, G: number, H: number): Tensor {
  const [, R, X] = x.shape as [number, number, number];
  return tf.reshape(tf.transpose(tf.reshape(x, [G, H, R, X]), [1, 0, 2, 3]), [H, G * R, X]);
}
export function headsToGroups(tf: TFModule, x: Tensor, G: number, H: number): Tensor {
  const [, GR, X] = x.shape as [number, number, number];
  const R = GR / G;
  return tf.reshape(tf.transpose(tf.reshape(x, [H, G, R, X]), [1, 0, 2, 3]), [G * H, R, X]);
}

/** The result of a shared-prefix forward. */
export interface SharedLogits {
  /** Logits at the prompt's positions [1, P, V]. */
  readonly prompt: Tensor;
  /** Logits at the completions' positions [G, R, V] (positions P .. P + R - 1). */
  readonly completions: Tensor;
}

/**
 * Shared-prefix forward: one prompt (P ids) and G completions padded to R ids (row-major [G, R]).
 * The prompt is encoded once; each completion attends to the prompt's keys and values and to its
 * own earlier tokens. Padding at the end of a completion is never attended to by its real tokens.
 */
export function forwardShared(r: Runner, p: PolicyParams, prompt: Int32Array, completions: Int32Array, G: number, R: number): SharedLogits {
  const { tf } = r;
  const P = prompt.length;
  const H = p.config.nHeads;
  const scale = 1 / Math.sqrt(p.config.dModel / H);
  const maskP = causalMask(tf, P);
  const maskC = causalMask(tf, R);
  let hp = embed(r, p, prompt, 1, P, 0);
  let hc = embed(r, p, completions, G, R, P);
  for (const b of p.blocks) {
    const pr = qkv(tf, hp, b, H);
    const kp = pr.k;
    const vp = pr.v;
    const outP = causalAttention(tf, pr, scale, maskP);

    const { q: qc, k: kc, v: vc } = qkv(tf, hc, b, H);
    const toPrompt = headsToGroups(tf, matMul(tf, groupsToHeads(tf, qc, G, H), kp, false, true), G, H);
    const toSelf = tf.add(matMul(tf, qc, kc, false, true), maskC);
    const att = tf.softmax(tf.mul(tf.concat([toPrompt, toSelf], -1), scale), -1);
    const [attToPrompt, attToSelf] = tf.split(att, [P, R], -1) as [Tensor, Tensor];
    const outC = tf.add(headsToGroups(tf, tf.matMul(groupsToHeads(tf, attToPrompt, G, H), vp), G, H), tf.matMul(attToSelf, vc));

    hp = mlp(tf, tf.add(hp, dense(tf, mergeHeads(tf, outP, 1, H), b.wo)), b);
    hc = mlp(tf, tf.add(hc, dense(tf, mergeHeads(tf, outC, G, H), b.wo)), b);
  }
  return { prompt: head(tf, p, hp), completions: head(tf, p, hc) };
}

/** log softmax(logits)[ids] along the last axis: logits [..., V], ids of the same leading shape. */
export function pickLogProbs(tf: TFModule, logits: Tensor, ids: Int32Array): Tensor {
  const V = logits.shape[logits.shape.length - 1]!;
  const lead = logits.shape.slice(0, -1);
  const onehot = tf.reshape(oneHotF32(tf, tf.tensor1d(ids, 'int32'), V), [...lead, V]);
  return tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1);
}

/**
 * The logits that predict each completion token, shared-prefix: [G, R, V]. Token r of a
 * completion is predicted at position P + r - 1 (the prompt's last position for r = 0).
 */
export function completionLogitsShared(r: Runner, p: PolicyParams, prompt: Int32Array, completions: Int32Array, G: number, R: number): Tensor {
  const { tf } = r;
  const out = forwardShared(r, p, prompt, completions, G, R);
  const V = p.config.vocab;
  const last = tf.slice(out.prompt, [0, prompt.length - 1, 0], [1, 1, V]);
  return tf.concat([tf.tile(last, [G, 1, 1]), tf.slice(out.completions, [0, 0, 0], [G, R - 1, V])], 1);
}

/** Log-probabilities of each completion token under the policy, shared-prefix: [G, R]. */
export function completionLogProbsShared(r: Runner, p: PolicyParams, prompt: Int32Array, completions: Int32Array, G: number, R: number): Tensor {
  return pickLogProbs(r.tf, completionLogitsShared(r, p, prompt, completions, G, R), completions);
}

/** Per-token entropy -sum_v p_v log p_v of the distribution predicting each completion token: [G, R]. */
export function completionEntropyShared(r: Runner, p: PolicyParams, prompt: Int32Array, completions: Int32Array, G: number, R: number): Tensor {
  const { tf } = r;
  const lp = tf.logSoftmax(completionLogitsShared(r, p, prompt, completions, G, R));
  return tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1));
}

/** The same log-probabilities without sharing: each [prompt; completion] runs on its own. */
export function completionLogProbsUnshared(r: Runner, p: PolicyParams, prompt: Int32Array, completions: Int32Array, G: number, R: number): Tensor {
  const { tf } = r;
  const P = prompt.length;
  const L = P + R;
  const ids = new Int32Array(G * L);
  for (let g = 0; g < G; g++) {
    ids.set(prompt, g * L);
    ids.set(completions.subarray(g * R, (g + 1) * R), g * L + P);
  }
  const logits = forward(r, p, ids, G, L);
  const pred = tf.slice(logits, [0, P - 1, 0], [G, R, p.config.vocab]);
  return pickLogProbs(tf, pred, completions);
}
