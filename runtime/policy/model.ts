/**
 * The policy's forward passes on tfjs-core ops: plain causal (every sequence on its own) and
 * shared-prefix (Prefix Grouper: a prompt encoded once, its G completions attending to its keys and
 * values, completion positions continuing after the prompt). Both give the same log-probabilities
 * and gradients; the shared one does the prompt's work once instead of G times.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { gatherFlat, matMul } from '../backends/fixes.js';
import { gatherRows } from './gather-rows.js';
import { hasLayerNormKernel, layerNormKernel } from './layer-norm.js';
import { hasRaggedAttention, raggedAttention } from './ragged-attention.js';
import { tokenEntropy, tokenLogProbs } from './token-logprob.js';
import type { TFModule } from '../backends/tf.js';
import type { BlockParams, PolicyParams } from './params.js';

type Tensor = tfc.Tensor;

/** Where a forward pass runs. */
export interface Runner {
  readonly tf: TFModule;
  readonly backend: string;
}

const NEG = -1e9;

/** Layer norm over the last axis (one kernel on cpu and wasm: runtime/policy/layer-norm.ts). */
export function layerNorm(tf: TFModule, x: Tensor, g: Tensor, b: Tensor): Tensor {
  if (hasLayerNormKernel(tf.getBackend())) return layerNormKernel(tf, x, g, b);
  return stockLayerNorm(tf, x, g, b);
}

/** Layer norm by the stock TF.js ops (every backend). */
export function stockLayerNorm(tf: TFModule, x: Tensor, g: Tensor, b: Tensor): Tensor {
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

/** Causal forward of N sequences of length L (ids row-major [N, L]): final hidden states [N, L, d]. */
export function forwardHidden(r: Runner, p: PolicyParams, ids: Int32Array, N: number, L: number): Tensor {
  const { tf } = r;
  const H = p.config.nHeads;
  const scale = 1 / Math.sqrt(p.config.dModel / H);
  const mask = causalMask(tf, L);
  let h = embed(r, p, ids, N, L, 0);
  for (const b of p.blocks) {
    const out = causalAttention(tf, qkv(tf, h, b, H), scale, mask);
    h = mlp(tf, tf.add(h, dense(tf, mergeHeads(tf, out, N, H), b.wo)), b);
  }
  return h;
}

/** Causal forward of N sequences of length L (ids row-major [N, L]): logits [N, L, V]. */
export function forward(r: Runner, p: PolicyParams, ids: Int32Array, N: number, L: number): Tensor {
  return head(r.tf, p, forwardHidden(r, p, ids, N, L));
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

/**
 * The larger of two blocks' row maxima [..., 1], as a constant for the gradient: a softmax's shift
 * changes nothing, so its gradient is 0 and is not computed.
 */
function rowMax(tf: TFModule, a: Tensor, b: Tensor): Tensor {
  const body = (x: Tensor, y: Tensor) => ({ value: tf.maximum(tf.max(x, -1, true), tf.max(y, -1, true)), gradFunc: () => [tf.zerosLike(x), tf.zerosLike(y)] });
  const f = tf.customGrad(body as unknown as Parameters<TFModule["customGrad"]>[0]) as unknown as (x: Tensor, y: Tensor) => Tensor;
  return f(a, b);
}

/**
 * Shared-prefix forward (Prefix Grouper) of B prompts, each with G completions padded to R ids
 * (row-major [B, G, R]): the logits that predict every completion token, [B, G, R, V]. Token r of a
 * completion is predicted at position P_b + r - 1 (the prompt's last position for r = 0).
 *
 * Every prompt is encoded once. All tokens (prompts right-padded to the longest, then completions)
 * go through the layer norms, MLPs and output projections as one matrix; attention splits them: a prompt attends causally to
 * itself (its padding comes after its real tokens, so no real token sees it); a completion attends
 * to its prompt's real keys and causally to its own tokens, under one softmax. Completion positions
 * continue after their prompt. Padding at the end of a completion is never attended to by its real
 * tokens.
 */
export function completionLogitsShared(r: Runner, p: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number, padTo = 0): Tensor {
  const { tf } = r;
  const B = prompts.length;
  const H = p.config.nHeads;
  const d = p.config.dModel;
  const dh = d / H;
  const Pm = Math.max(padTo, ...prompts.map((x) => x.length));
  const Np = B * Pm;
  const Nc = B * G * R;
  const N = Np + Nc;
  if (Pm + R > p.config.maxLen) throw new Error(`sequence of ${Pm + R} tokens is longer than the policy's maxLen ${p.config.maxLen}`);
  const ids = new Int32Array(N);
  const pos = new Int32Array(N);
  const keyMask = new Float32Array(B * Pm);
  prompts.forEach((pr, b) => {
    ids.set(pr, b * Pm);
    for (let i = 0; i < Pm; i++) pos[b * Pm + i] = i;
    keyMask.fill(NEG, b * Pm + pr.length, (b + 1) * Pm);
    for (let gr = 0; gr < G * R; gr++) pos[Np + b * G * R + gr] = pr.length + (gr % R);
  });
  ids.set(completions, Np);
  const scale = 1 / Math.sqrt(dh);
  const maskP = causalMask(tf, Pm);
  const maskC = causalMask(tf, R);
  // A completion sees only its prompt's real tokens: [1, B, 1, Pm], broadcast over heads and
  // queries (none when every prompt has the longest length).
  const padded = prompts.some((x) => x.length < Pm);
  const maskK = padded ? tf.tensor4d(keyMask, [1, B, 1, Pm]) : null;
  let h = tf.add(gatherFlat(tf, p.tokEmb, ids, r.backend), gatherFlat(tf, p.posEmb, pos, r.backend));
  // [n, d] -> [H, n, dh] and back.
  const heads = (x: Tensor, n: number): Tensor => tf.transpose(tf.reshape(x, [n, H, dh]), [1, 0, 2]);
  const merge = (x: Tensor, n: number): Tensor => tf.reshape(tf.transpose(tf.reshape(x, [H, n, dh]), [1, 0, 2]), [n, d]);
  for (const b of p.blocks) {
    // Rows split once (contiguous); prompt and completion rows get their own projections.
    const [ap0, ac0] = tf.split(layerNorm(tf, h, b.ln1g, b.ln1b), [Np, Nc], 0) as [Tensor, Tensor];
    const qp = heads(tf.matMul(ap0, b.wq), Np);
    const kp = heads(tf.matMul(ap0, b.wk), Np);
    const vp = heads(tf.matMul(ap0, b.wv), Np);
    const qc = heads(tf.matMul(ac0, b.wq), Nc);
    const kc = heads(tf.matMul(ac0, b.wk), Nc);
    const vc = heads(tf.matMul(ac0, b.wv), Nc);
    const kpb = tf.reshape(kp, [H * B, Pm, dh]);
    const vpb = tf.reshape(vp, [H * B, Pm, dh]);
    const outP = causalAttention(tf, { q: tf.reshape(qp, [H * B, Pm, dh]), k: kpb, v: vpb }, scale, maskP);
    // Completion queries, scaled once: scores against the prompt's keys and their own.
    const qcs = tf.mul(qc, scale);
    const scores = matMul(tf, tf.reshape(qcs, [H * B, G * R, dh]), kpb, false, true);
    const sp = tf.reshape(maskK === null ? scores : tf.add(tf.reshape(scores, [H, B, G * R, Pm]), maskK), [H * B * G, R, Pm]);
    const ss = tf.add(matMul(tf, tf.reshape(qcs, [H * B * G, R, dh]), tf.reshape(kc, [H * B * G, R, dh]), false, true), maskC);
    // One softmax over [prompt keys, own keys], without concatenating the two score blocks (a
    // split along the last axis is slow on wasm): shift by the joint max, normalize by the joint sum.
    const m = rowMax(tf, sp, ss);
    const ep = tf.exp(tf.sub(sp, m));
    const es = tf.exp(tf.sub(ss, m));
    const z = tf.add(tf.sum(ep, -1, true), tf.sum(es, -1, true));
    const ap = tf.div(ep, z);
    const as = tf.div(es, z);
    const outC = tf.add(
      tf.reshape(tf.matMul(tf.reshape(ap, [H * B, G * R, Pm]), vpb), [H, Nc, dh]),
      tf.reshape(tf.matMul(as, tf.reshape(vc, [H * B * G, R, dh])), [H, Nc, dh]),
    );
    const out = tf.concat([merge(outP, Np), merge(outC, Nc)], 0);
    h = mlp(tf, tf.add(h, tf.matMul(out, b.wo)), b);
  }
  const rows = new Int32Array(Nc);
  prompts.forEach((pr, b) => {
    for (let g = 0; g < G; g++) for (let t = 0; t < R; t++) rows[(b * G + g) * R + t] = t === 0 ? b * Pm + pr.length - 1 : Np + (b * G + g) * R + t - 1;
  });
  return tf.reshape(head(tf, p, tf.reshape(gatherFlat(tf, h, rows, r.backend), [1, Nc, d])), [B, G, R, p.config.vocab]);
}

/**
 * log softmax(logits)[ids] along the last axis: logits [..., V], ids of the same leading shape.
 * One fused kernel on cpu, wasm and webgpu (runtime/policy/token-logprob.ts), the stock ops elsewhere.
 */
export function pickLogProbs(tf: TFModule, logits: Tensor, ids: Int32Array): Tensor {
  return tokenLogProbs(tf, logits, ids, tf.getBackend());
}

/** Log-probabilities of each completion token under the policy, shared-prefix: [B, G, R]. */
export function completionLogProbsShared(r: Runner, p: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number, padTo = 0): Tensor {
  return pickLogProbs(r.tf, completionLogitsShared(r, p, prompts, completions, G, R, padTo), completions);
}

/** -sum_v p_v log p_v along the last axis of logits: one fused kernel on cpu and wasm (runtime/policy/token-logprob.ts), the stock ops elsewhere. */
export function entropyOf(tf: TFModule, logits: Tensor): Tensor {
  return tokenEntropy(tf, logits, tf.getBackend());
}

/**
 * The same log-probabilities without sharing, [B, G, R]: each [prompt; completion] is its own
 * sequence (B * G of them, right-padded to the longest prompt, or `padTo`, plus R), run through the
 * plain causal forward.
 */
export function completionLogProbsUnshared(r: Runner, p: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number, padTo = 0): Tensor {
  return pickLogProbs(r.tf, completionLogitsUnshared(r, p, prompts, completions, G, R, padTo), completions);
}

/** The logits predicting each completion token without sharing, [B, G, R, V] (see completionLogProbsUnshared). */
export function completionLogitsUnshared(r: Runner, p: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number, padTo = 0): Tensor {
  const { tf } = r;
  const B = prompts.length;
  const L = Math.max(padTo, ...prompts.map((x) => x.length)) + R;
  const ids = new Int32Array(B * G * L);
  const rows = new Int32Array(B * G * R);
  prompts.forEach((pr, b) => {
    for (let g = 0; g < G; g++) {
      const s = b * G + g;
      ids.set(pr, s * L);
      ids.set(completions.subarray(s * R, (s + 1) * R), s * L + pr.length);
      for (let t = 0; t < R; t++) rows[s * R + t] = s * L + pr.length - 1 + t;
    }
  });
  const h = forwardHidden(r, p, ids, B * G, L);
  const x = tf.reshape(gatherFlat(tf, tf.reshape(h, [B * G * L, p.config.dModel]), rows, r.backend), [1, B * G * R, p.config.dModel]);
  return tf.reshape(head(tf, p, x), [B, G, R, p.config.vocab]);
}

/** Where the real tokens of B x G completions (each `lengths[s]` of its R ids) lie in the packed layout. */
export interface Packing {
  /** Each prompt's completion tokens back to back, padded to the longest group: rows per prompt. */
  readonly Cm: number;
  /** Real completion tokens in all. */
  readonly n: number;
  /** For each of the B * G * R slots, its index among the real tokens, or n for padding. */
  readonly slot: Int32Array;
  /** The real tokens' ids, in [B, G, R] order. */
  readonly ids: Int32Array;
}

/** The packed layout of completions with these lengths (see completionLogitsPacked); `padTo` is the least Cm. */
export function packCompletions(completions: Int32Array, lengths: ArrayLike<number>, B: number, G: number, R: number, padTo = 0): Packing {
  let Cm = Math.max(1, padTo);
  let n = 0;
  for (let b = 0; b < B; b++) {
    let c = 0;
    for (let g = 0; g < G; g++) c += lengths[b * G + g]!;
    Cm = Math.max(Cm, c);
    n += c;
  }
  const slot = new Int32Array(B * G * R).fill(n);
  const ids = new Int32Array(n);
  let k = 0;
  for (let s = 0; s < B * G; s++) {
    for (let t = 0; t < lengths[s]!; t++) {
      slot[s * R + t] = k;
      ids[k++] = completions[s * R + t]!;
    }
  }
  return { Cm, n, slot, ids };
}

/**
 * Packed shared-prefix forward: as completionLogitsShared, but only the real tokens of each
 * completion (the first `lengths[b * G + g]` of its R ids) are encoded, so one long completion does
 * not pad all the others. Each prompt's G completions lie back to back in one block of `Cm` rows
 * (the longest group's token count, or `packTo`); a completion token attends to its prompt's real
 * keys and causally to the tokens of its own completion (a block-diagonal causal mask), at positions
 * continuing after its prompt. Returns the logits [n, V] that predict the n real tokens, in [B, G, R]
 * order. Padding keys get exactly zero weight, so the padding never changes a real token's value.
 */
export function completionLogitsPacked(
  r: Runner, p: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number, lengths: ArrayLike<number>, padTo = 0, packTo = 0,
): Tensor {
  const { tf } = r;
  const B = prompts.length;
  const H = p.config.nHeads;
  const d = p.config.dModel;
  const dh = d / H;
  const Pm = Math.max(padTo, ...prompts.map((x) => x.length));
  const { Cm, n } = packCompletions(completions, lengths, B, G, R, packTo);
  const Np = B * Pm;
  const Nc = B * Cm;
  const N = Np + Nc;
  const ids = new Int32Array(N);
  const pos = new Int32Array(N);
  const keyMask = new Float32Array(B * Pm);
  // [B, Cm, Cm]: query row i of a prompt's block sees the keys of its own completion up to itself;
  // a padding row sees only itself (its values are never read).
  const ownMask = new Float32Array(B * Cm * Cm).fill(NEG);
  // The row predicting each real token: the prompt's last one for a completion's first token.
  const rows = new Int32Array(n);
  let k = 0;
  prompts.forEach((pr, b) => {
    ids.set(pr, b * Pm);
    for (let i = 0; i < Pm; i++) pos[b * Pm + i] = i;
    keyMask.fill(NEG, b * Pm + pr.length, (b + 1) * Pm);
    let off = 0;
    for (let g = 0; g < G; g++) {
      const s = b * G + g;
      const len = lengths[s]!;
      if (pr.length + len > p.config.maxLen) throw new Error(`sequence of ${pr.length + len} tokens is longer than the policy's maxLen ${p.config.maxLen}`);
      for (let t = 0; t < len; t++) {
        const row = b * Cm + off + t;
        ids[Np + row] = completions[s * R + t]!;
        pos[Np + row] = pr.length + t;
        ownMask.fill(0, row * Cm + off, row * Cm + off + t + 1);
        rows[k++] = t === 0 ? b * Pm + pr.length - 1 : Np + row - 1;
      }
      off += len;
    }
    for (let i = off; i < Cm; i++) ownMask[(b * Cm + i) * Cm + i] = 0;
  });
  const scale = 1 / Math.sqrt(dh);
  const maskP = causalMask(tf, Pm);
  const maskO = tf.tensor4d(ownMask, [1, B, Cm, Cm]);
  const padded = prompts.some((x) => x.length < Pm);
  const maskK = padded ? tf.tensor4d(keyMask, [1, B, 1, Pm]) : null;
  let h = tf.add(gatherFlat(tf, p.tokEmb, ids, r.backend), gatherFlat(tf, p.posEmb, pos, r.backend));
  const heads = (x: Tensor, m: number): Tensor => tf.transpose(tf.reshape(x, [m, H, dh]), [1, 0, 2]);
  const merge = (x: Tensor, m: number): Tensor => tf.reshape(tf.transpose(tf.reshape(x, [H, m, dh]), [1, 0, 2]), [m, d]);
  for (const b of p.blocks) {
    const [ap0, ac0] = tf.split(layerNorm(tf, h, b.ln1g, b.ln1b), [Np, Nc], 0) as [Tensor, Tensor];
    const kpb = tf.reshape(heads(tf.matMul(ap0, b.wk), Np), [H * B, Pm, dh]);
    const vpb = tf.reshape(heads(tf.matMul(ap0, b.wv), Np), [H * B, Pm, dh]);
    const outP = causalAttention(tf, { q: tf.reshape(heads(tf.matMul(ap0, b.wq), Np), [H * B, Pm, dh]), k: kpb, v: vpb }, scale, maskP);
    const qcs = tf.reshape(heads(tf.mul(tf.matMul(ac0, b.wq), scale), Nc), [H * B, Cm, dh]);
    const kc = tf.reshape(heads(tf.matMul(ac0, b.wk), Nc), [H * B, Cm, dh]);
    const vc = tf.reshape(heads(tf.matMul(ac0, b.wv), Nc), [H * B, Cm, dh]);
    const scores = matMul(tf, qcs, kpb, false, true);
    const sp = maskK === null ? scores : tf.reshape(tf.add(tf.reshape(scores, [H, B, Cm, Pm]), maskK), [H * B, Cm, Pm]);
    const ss = tf.reshape(tf.add(tf.reshape(matMul(tf, qcs, kc, false, true), [H, B, Cm, Cm]), maskO), [H * B, Cm, Cm]);
    // One softmax over [prompt keys, own keys] (see completionLogitsShared).
    const m = rowMax(tf, sp, ss);
    const ep = tf.exp(tf.sub(sp, m));
    const es = tf.exp(tf.sub(ss, m));
    const z = tf.add(tf.sum(ep, -1, true), tf.sum(es, -1, true));
    const outC = tf.add(tf.matMul(tf.div(ep, z), vpb), tf.matMul(tf.div(es, z), vc));
    const out = tf.concat([merge(outP, Np), merge(tf.reshape(outC, [H, Nc, dh]), Nc)], 0);
    h = mlp(tf, tf.add(h, tf.matMul(out, b.wo)), b);
  }
  return tf.reshape(head(tf, p, tf.reshape(gatherFlat(tf, h, rows, r.backend), [1, n, d])), [n, p.config.vocab]);
}

/** Values of the n real tokens [n] spread to [B, G, R] in packing order, 0 on padding. */
export function unpack(r: Runner, x: Tensor, pk: Packing, B: number, G: number, R: number): Tensor {
  const { tf } = r;
  if (hasRaggedAttention(r.backend)) return tf.reshape(gatherRows(tf, x, pk.slot.map((i) => (i === pk.n ? -1 : i)), r.backend), [B, G, R]);
  return tf.reshape(gatherFlat(tf, tf.concat([x, tf.zeros([1])], 0), pk.slot, r.backend), [B, G, R]);
}

/**
 * Ragged shared-prefix forward, on the host-memory backends (hasRaggedAttention): every prompt's
 * real tokens once, then every completion's real tokens, with no padding anywhere: one [N, d]
 * matrix through the layer norms, projections (queries, keys and values as one product) and MLPs,
 * and one attention kernel per layer (runtime/policy/ragged-attention.ts) in which a prompt token
 * attends causally to its prompt and a completion token to its prompt and causally to its own
 * completion. The same logits as completionLogitsPacked, [n, V] for the n real completion tokens
 * in [B, G, R] order, with fewer and smaller ops.
 */
export function completionLogitsRagged(r: Runner, p: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number, lengths: ArrayLike<number>): Tensor {
  const { tf } = r;
  const B = prompts.length;
  const H = p.config.nHeads;
  const d = p.config.dModel;
  const Np = prompts.reduce((a, x) => a + x.length, 0);
  let n = 0;
  for (let s = 0; s < B * G; s++) n += lengths[s]!;
  const N = Np + n;
  const ids = new Int32Array(N);
  const pos = new Int32Array(N);
  const spans = { from0: new Int32Array(N), to0: new Int32Array(N), from1: new Int32Array(N), to1: new Int32Array(N) };
  const rows = new Int32Array(n);
  let at = 0;
  let c = Np;
  let k = 0;
  prompts.forEach((pr, b) => {
    ids.set(pr, at);
    for (let i = 0; i < pr.length; i++) {
      pos[at + i] = i;
      spans.from0[at + i] = at;
      spans.to0[at + i] = at + i + 1;
    }
    for (let g = 0; g < G; g++) {
      const s = b * G + g;
      const len = lengths[s]!;
      if (pr.length + len > p.config.maxLen) throw new Error(`sequence of ${pr.length + len} tokens is longer than the policy's maxLen ${p.config.maxLen}`);
      for (let t = 0; t < len; t++) {
        ids[c + t] = completions[s * R + t]!;
        pos[c + t] = pr.length + t;
        spans.from0[c + t] = at;
        spans.to0[c + t] = at + pr.length;
        spans.from1[c + t] = c;
        spans.to1[c + t] = c + t + 1;
        rows[k++] = t === 0 ? at + pr.length - 1 : c + t - 1;
      }
      c += len;
    }
    at += pr.length;
  });
  const scale = 1 / Math.sqrt(d / H);
  let h = tf.add(gatherRows(tf, p.tokEmb, ids, r.backend), gatherRows(tf, p.posEmb, pos, r.backend));
  for (const b of p.blocks) {
    const qkv = tf.matMul(layerNorm(tf, h, b.ln1g, b.ln1b), tf.concat([b.wq, b.wk, b.wv], 1));
    h = mlp(tf, tf.add(h, tf.matMul(raggedAttention(tf, qkv, spans, H, scale), b.wo)), b);
  }
  return tf.reshape(head(tf, p, tf.reshape(gatherRows(tf, h, rows, r.backend), [1, n, d])), [n, p.config.vocab]);
}
