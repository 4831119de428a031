/**
 * Batched KV-cached decoding on the host-memory backends (cpu, wasm), without padding: prompts are
 * encoded back to back (each token attending causally within its prompt), every layer's keys and
 * values are kept in one host array, and each step feeds only the rows still decoding: one
 * [rows, d] matrix through the layer norms, the projections (queries, keys and values as one
 * product) and the MLPs, and per layer one host loop in which a row attends to its prompt's keys and
 * to its own previous tokens (float64, as runtime/policy/ragged-attention.ts). Rows that finished
 * cost nothing, so one long completion no longer carries all the others along.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { hostTensor, hostView } from '../../compiler/ops/host-memory.js';
import type { TFModule } from '../backends/tf.js';
import { gatherRows } from './gather-rows.js';
import { head, layerNorm, mlp, type Runner } from './model.js';
import type { PolicyParams } from './params.js';

type Tensor = tfc.Tensor;

/**
 * softmax(q k^T * scale) v per head for each query row i of `qkv` [n, 3d], over the cached keys
 * and values (rows of 2d: keys, then values) at keyRows[keyStart[i] .. keyStart[i + 1]); the
 * result [n, d] as a tensor of the current backend.
 */
function attendCached(tf: TFModule, qkv: Tensor, cache: Float32Array, keyRows: Int32Array, keyStart: Int32Array, H: number, scale: number): Tensor {
  const [n, d3] = qkv.shape as [number, number];
  const d = d3 / 3;
  const dh = d / H;
  const d2 = 2 * d;
  const out = hostTensor(tf, [n, d], 'float32');
  const q = hostView(tf, qkv) as Float32Array;
  const o = out.view() as Float32Array;
  let most = 1;
  for (let i = 0; i < n; i++) most = Math.max(most, keyStart[i + 1]! - keyStart[i]!);
  const w = new Float64Array(most);
  const acc = new Float64Array(dh);
  for (let i = 0; i < n; i++) {
    const k0 = keyStart[i]!;
    const nk = keyStart[i + 1]! - k0;
    for (let h = 0; h < H; h++) {
      const qo = i * d3 + h * dh;
      let m = -Infinity;
      for (let j = 0; j < nk; j++) {
        const ko = keyRows[k0 + j]! * d2 + h * dh;
        let s = 0;
        for (let c = 0; c < dh; c++) s += q[qo + c]! * cache[ko + c]!;
        s *= scale;
        w[j] = s;
        if (s > m) m = s;
      }
      let sum = 0;
      for (let j = 0; j < nk; j++) {
        const e = Math.exp(w[j]! - m);
        w[j] = e;
        sum += e;
      }
      acc.fill(0);
      for (let j = 0; j < nk; j++) {
        const p = w[j]! / sum;
        const vo = keyRows[k0 + j]! * d2 + d + h * dh;
        for (let c = 0; c < dh; c++) acc[c]! += p * cache[vo + c]!;
      }
      const oo = i * d + h * dh;
      for (let c = 0; c < dh; c++) o[oo + c] = acc[c]!;
    }
  }
  return out.tensor;
}

/** Copy the keys and values of `qkv` [n, 3d] into the cache rows `rows` (2d each). */
function storeKeys(tf: TFModule, qkv: Tensor, cache: Float32Array, rows: ArrayLike<number>): void {
  const [n, d3] = qkv.shape as [number, number];
  const d = d3 / 3;
  const z = hostView(tf, qkv) as Float32Array;
  for (let i = 0; i < n; i++) cache.set(z.subarray(i * d3 + d, (i + 1) * d3), rows[i]! * 2 * d);
}

/**
 * Incremental decoding of G continuations of each of B prompts (row b * G + g), with at most
 * `maxSteps` feeds (the caches start smaller and grow). `next` holds the logits of the rows in `rows` [rows.length, V]: every row at
 * first, then the rows of the last feed.
 */
export class RaggedDecoder {
  /** One array per layer: the prompts' rows, then N rows per step (2d floats each). */
  private caches: Float32Array[] = [];
  private readonly start: Int32Array;
  private readonly Np: number;
  private step = 0;
  /** The rows `next` holds, ascending. */
  rows: Int32Array;
  /** Logits for the next token of each row in `rows` [rows.length, V]. */
  next: Tensor;

  constructor(
    private readonly r: Runner,
    private readonly p: PolicyParams,
    private readonly prompts: readonly Int32Array[],
    private readonly G: number,
    maxSteps: number,
  ) {
    const { tf } = r;
    const B = prompts.length;
    const N = B * G;
    const d = p.config.dModel;
    const H = p.config.nHeads;
    const scale = 1 / Math.sqrt(d / H);
    this.start = new Int32Array(B + 1);
    prompts.forEach((x, b) => (this.start[b + 1] = this.start[b]! + x.length));
    const Np = this.start[B]!;
    this.Np = Np;
    // Room for a few steps at first (most completions are short), grown by doubling as needed.
    for (let l = 0; l < p.blocks.length; l++) this.caches.push(new Float32Array((Np + N * Math.min(Math.max(1, maxSteps), 8)) * 2 * d));
    const ids = new Int32Array(Np);
    const pos = new Int32Array(Np);
    // Each prompt token attends to its prompt's tokens up to itself.
    const keyStart = new Int32Array(Np + 1);
    prompts.forEach((x, b) => {
      ids.set(x, this.start[b]!);
      for (let i = 0; i < x.length; i++) {
        pos[this.start[b]! + i] = i;
        keyStart[this.start[b]! + i + 1] = keyStart[this.start[b]! + i]! + i + 1;
      }
    });
    const keyRows = new Int32Array(keyStart[Np]!);
    prompts.forEach((x, b) => {
      for (let i = 0; i < x.length; i++) for (let j = 0; j <= i; j++) keyRows[keyStart[this.start[b]! + i]! + j] = this.start[b]! + j;
    });
    const all = Int32Array.from({ length: Np }, (_, i) => i);
    const last = Int32Array.from({ length: N }, (_, i) => this.start[Math.floor(i / G) + 1]! - 1);
    this.rows = Int32Array.from({ length: N }, (_, i) => i);
    this.next = tf.tidy(() => {
      let h = tf.add(gatherRows(tf, p.tokEmb, ids, r.backend), gatherRows(tf, p.posEmb, pos, r.backend));
      p.blocks.forEach((b, l) => {
        const qkv = tf.matMul(layerNorm(tf, h, b.ln1g, b.ln1b), tf.concat([b.wq, b.wk, b.wv], 1));
        storeKeys(tf, qkv, this.caches[l]!, all);
        h = mlp(tf, tf.add(h, tf.matMul(attendCached(tf, qkv, this.caches[l]!, keyRows, keyStart, H, scale), b.wo)), b);
      });
      return this.logits(gatherRows(tf, h, last, r.backend));
    });
  }

  /** Logits [n, V] of final hidden states [n, d]. */
  private logits(h: Tensor): Tensor {
    const [n, d] = h.shape as [number, number];
    return this.r.tf.reshape(head(this.r.tf, this.p, this.r.tf.reshape(h, [1, n, d])), [n, this.p.config.vocab]);
  }

  /** Feed one token to each of `rows` (ascending; a subset of the last feed's); `next` becomes the logits that follow them. */
  feed(tokens: Int32Array, rows: Int32Array): void {
    const { tf } = this.r;
    const { p, G, Np, step } = this;
    const N = this.prompts.length * G;
    const n = rows.length;
    const d = p.config.dModel;
    const H = p.config.nHeads;
    const scale = 1 / Math.sqrt(d / H);
    const pos = new Int32Array(n);
    const at = new Int32Array(n);
    // Row r's keys: its prompt's rows, then its own tokens of steps 0..step.
    const keyStart = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) {
      const b = Math.floor(rows[k]! / G);
      const P = this.start[b + 1]! - this.start[b]!;
      pos[k] = P + step;
      at[k] = Np + step * N + rows[k]!;
      keyStart[k + 1] = keyStart[k]! + P + step + 1;
    }
    const keyRows = new Int32Array(keyStart[n]!);
    for (let k = 0; k < n; k++) {
      const b = Math.floor(rows[k]! / G);
      let o = keyStart[k]!;
      for (let j = this.start[b]!; j < this.start[b + 1]!; j++) keyRows[o++] = j;
      for (let s = 0; s <= step; s++) keyRows[o++] = Np + s * N + rows[k]!;
    }
    const need = (Np + (step + 1) * N) * 2 * d;
    this.caches.forEach((c, l) => {
      if (c.length >= need) return;
      const grown = new Float32Array(Math.max(need, 2 * c.length - Np * 2 * d));
      grown.set(c);
      this.caches[l] = grown;
    });
    const old = this.next;
    this.next = tf.tidy(() => {
      let h = tf.add(gatherRows(tf, p.tokEmb, tokens, this.r.backend), gatherRows(tf, p.posEmb, pos, this.r.backend));
      p.blocks.forEach((b, l) => {
        const qkv = tf.matMul(layerNorm(tf, h, b.ln1g, b.ln1b), tf.concat([b.wq, b.wk, b.wv], 1));
        storeKeys(tf, qkv, this.caches[l]!, at);
        h = mlp(tf, tf.add(h, tf.matMul(attendCached(tf, qkv, this.caches[l]!, keyRows, keyStart, H, scale), b.wo)), b);
      });
      return this.logits(h);
    });
    old.dispose();
    this.rows = rows;
    this.step++;
  }

  /** Free the pending logits (the caches are host arrays). */
  dispose(): void {
    this.next.dispose();
  }
}
