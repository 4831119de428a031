/**
 * Sampling with a KV cache: a prompt is encoded once (its keys and values cached per layer), then
 * its G completions are decoded together, one token per step, each step attending to the prompt's
 * cache and to the completion's own cache. Token choice happens on the host from a seeded stream,
 * so sampling is reproducible on every backend (and webgpu is only ever read asynchronously).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { matMul } from '../backends/fixes.js';
import type { TFModule } from '../backends/tf.js';
import { causalAttention, causalMask, dense, embed, groupsToHeads, head, headsToGroups, mergeHeads, mlp, qkv, type Runner } from './model.js';
import type { PolicyParams } from './params.js';
import { EOS, PAD } from './tokenizer.js';

type Tensor = tfc.Tensor;

/** Sampling options (the `sample` stage's rollout params). */
export interface SampleOptions {
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  /** The seeded uniform source in [0, 1). */
  readonly uniform: () => number;
  /** Whether a completion's tokens so far end it (a stop string); EOS and max tokens always do. */
  readonly stopAfter?: (ids: readonly number[]) => boolean;
  /**
   * Tokens each completion starts with instead of sampling (prompt suffixes, hints, roll-in), one
   * list per completion; max tokens counts only what is sampled after them. The stop check sees only
   * the sampled tokens.
   */
  readonly forced?: readonly (readonly number[])[];
}

/** Cached keys and values of one layer. */
interface LayerCache {
  readonly promptK: Tensor;
  readonly promptV: Tensor;
  ownK: Tensor | null;
  ownV: Tensor | null;
}

/** Incremental decoding of G continuations of one prompt. */
export class Decoder {
  private readonly caches: LayerCache[] = [];
  private step = 0;
  /** Logits for the next token of every continuation [G, V] (after the prompt: all equal). */
  next: Tensor;

  constructor(
    private readonly r: Runner,
    private readonly p: PolicyParams,
    private readonly prompt: Int32Array,
    private readonly G: number,
  ) {
    const { tf } = r;
    const P = prompt.length;
    const H = p.config.nHeads;
    const scale = 1 / Math.sqrt(p.config.dModel / H);
    this.next = tf.tidy(() => {
      let h = embed(r, p, prompt, 1, P, 0);
      const mask = causalMask(tf, P);
      for (const b of p.blocks) {
        const x = qkv(tf, h, b, H);
        this.caches.push({ promptK: tf.keep(x.k), promptV: tf.keep(x.v), ownK: null, ownV: null });
        h = mlp(tf, tf.add(h, dense(tf, mergeHeads(tf, causalAttention(tf, x, scale, mask), 1, H), b.wo)), b);
      }
      const logits = head(tf, p, h);
      return tf.tile(tf.reshape(tf.slice(logits, [0, P - 1, 0], [1, 1, p.config.vocab]), [1, p.config.vocab]), [G, 1]);
    });
  }

  /** Feed one token per continuation [G]; `next` becomes the logits that follow them. */
  feed(tokens: Int32Array): void {
    const { tf } = this.r;
    const { p, G } = this;
    const H = p.config.nHeads;
    const scale = 1 / Math.sqrt(p.config.dModel / H);
    const P = this.prompt.length;
    const old = this.next;
    this.next = tf.tidy(() => {
      let h = embed(this.r, p, tokens, G, 1, P + this.step);
      p.blocks.forEach((b, l) => {
        const c = this.caches[l]!;
        const { q, k, v } = qkv(tf, h, b, H);
        const ownK = c.ownK === null ? k : tf.concat([c.ownK, k], 1);
        const ownV = c.ownV === null ? v : tf.concat([c.ownV, v], 1);
        tf.dispose([c.ownK, c.ownV].filter((t): t is Tensor => t !== null));
        c.ownK = tf.keep(ownK);
        c.ownV = tf.keep(ownV);
        const toPrompt = headsToGroups(tf, matMul(tf, groupsToHeads(tf, q, G, H), c.promptK, false, true), G, H);
        const toSelf = matMul(tf, q, ownK, false, true);
        const att = tf.softmax(tf.mul(tf.concat([toPrompt, toSelf], -1), scale), -1);
        const [ap, as] = tf.split(att, [P, this.step + 1], -1) as [Tensor, Tensor];
        const out = tf.add(headsToGroups(tf, tf.matMul(groupsToHeads(tf, ap, G, H), c.promptV), G, H), tf.matMul(as, ownV));
        h = mlp(tf, tf.add(h, dense(tf, mergeHeads(tf, out, G, H), b.wo)), b);
      });
      return tf.reshape(head(tf, p, h), [G, p.config.vocab]);
    });
    old.dispose();
    this.step++;
  }

  /** Free the caches and the pending logits. */
  dispose(): void {
    const { tf } = this.r;
    for (const c of this.caches) tf.dispose([c.promptK, c.promptV, ...[c.ownK, c.ownV].filter((t): t is Tensor => t !== null)]);
    this.next.dispose();
  }
}

/** Choose a token from logits on the host: temperature, nucleus (top-p), seeded. Temperature 0 is greedy. */
export function chooseToken(logits: ArrayLike<number>, temperature: number, topP: number, uniform: () => number): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature <= 0) return best;
  // Typed arrays and one sort of indices (by weight, then index): this runs once per sampled token.
  const z = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    z[i] = Math.exp((logits[i]! - logits[best]!) / temperature);
    total += z[i]!;
  }
  const order = new Uint32Array(V);
  for (let i = 0; i < V; i++) order[i] = i;
  order.sort((a, b) => z[b]! - z[a]! || a - b);
  let kept = 0;
  let size = 0;
  let mass = 0;
  while (size < V) {
    const i = order[size++]!;
    kept += z[i]! / total;
    if (kept >= topP) break;
  }
  for (let k = 0; k < size; k++) mass += z[order[k]!]!;
  let u = uniform() * mass;
  for (let k = 0; k < size; k++) {
    u -= z[order[k]!]!;
    if (u <= 0) return order[k]!;
  }
  return order[size - 1]!;
}

/** What sampling gives for one prompt (see sampleCompletions). */
export interface SampleResult {
  readonly ids: Int32Array;
  readonly lengths: number[];
  readonly R: number;
  readonly logps: Float32Array;
  readonly sumPiSq: Float32Array;
  readonly truncated: boolean[];
}

/**
 * Sample `n` completions of one prompt: ids row-major [n, R] padded with PAD after EOS, the
 * length of each (EOS included when it was produced), and the sampler's log-probability of each
 * token [n, R] (0 on padding).
 */
export async function sampleCompletions(r: Runner, p: PolicyParams, prompt: Int32Array, o: SampleOptions): Promise<SampleResult> {
  const room = p.config.maxLen - prompt.length;
  const forced = Array.from({ length: o.n }, (_, g) => (o.forced?.[g] ?? []).slice(0, room));
  // Each completion: its forced tokens, then up to maxTokens sampled ones, within the context.
  const limit = forced.map((f) => Math.min(room, f.length + o.maxTokens));
  const steps = Math.max(0, ...limit);
  const dec = new Decoder(r, p, prompt, o.n);
  const seqs: number[][] = Array.from({ length: o.n }, () => []);
  // The sampler's own log-probability of each token (untempered, from the KV-cached decode): `rollout_logp`.
  const lps: number[][] = Array.from({ length: o.n }, () => []);
  // sum_v pi_v^2 of the sampler's (untempered) distribution at each token: `sum_pi_squared`.
  const sq: number[][] = Array.from({ length: o.n }, () => []);
  // Whether a completion ended (EOS or the stop string) rather than running into its limit.
  const ended = limit.map(() => false);
  const done = limit.map((l) => l === 0);
  try {
    for (let t = 0; t < steps && done.some((d) => !d); t++) {
      // A macrotask turn per token: signals (a second Ctrl-C) are handled during long samples.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const logits = await dec.next.data();
      const V = p.config.vocab;
      const chosen = new Int32Array(o.n);
      for (let g = 0; g < o.n; g++) {
        if (done[g]) {
          chosen[g] = PAD;
          continue;
        }
        const f = forced[g]!;
        const tok = t < f.length ? f[t]! : chooseToken(logits.subarray(g * V, (g + 1) * V), o.temperature, o.topP, o.uniform);
        chosen[g] = tok;
        seqs[g]!.push(tok);
        lps[g]!.push(logSoftmaxAt(logits.subarray(g * V, (g + 1) * V), tok));
        sq[g]!.push(sumSquaredProbs(logits.subarray(g * V, (g + 1) * V)));
        if (t >= f.length && (tok === EOS || o.stopAfter?.(seqs[g]!.slice(f.length)) === true)) {
          done[g] = true;
          ended[g] = true;
        }
        if (seqs[g]!.length >= limit[g]!) done[g] = true;
      }
      if (t + 1 < steps && done.some((d) => !d)) dec.feed(chosen);
    }
  } finally {
    dec.dispose();
  }
  const R = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new Int32Array(o.n * R).fill(PAD);
  seqs.forEach((s, g) => ids.set(s, g * R));
  const logps = new Float32Array(o.n * R);
  lps.forEach((l, g) => logps.set(l, g * R));
  const sumPiSq = new Float32Array(o.n * R);
  sq.forEach((l, g) => sumPiSq.set(l, g * R));
  return { ids, lengths: seqs.map((s) => s.length), R, logps, sumPiSq, truncated: ended.map((e) => !e) };
}

/** sum_v softmax(logits)_v^2 = exp(logsumexp(2 logits) - 2 logsumexp(logits)), in float64. */
export function sumSquaredProbs(logits: ArrayLike<number>): number {
  let mx = -Infinity;
  for (let k = 0; k < logits.length; k++) mx = Math.max(mx, logits[k]!);
  let z = 0;
  let z2 = 0;
  for (let k = 0; k < logits.length; k++) {
    const e = Math.exp(logits[k]! - mx);
    z += e;
    z2 += e * e;
  }
  return z2 / (z * z);
}

/** log softmax(logits)[i], computed stably in float64. */
export function logSoftmaxAt(logits: ArrayLike<number>, i: number): number {
  let mx = -Infinity;
  for (let k = 0; k < logits.length; k++) mx = Math.max(mx, logits[k]!);
  let z = 0;
  for (let k = 0; k < logits.length; k++) z += Math.exp(logits[k]! - mx);
  return logits[i]! - mx - Math.log(z);
}
