/**
 * Batched sampling: the groups of several prompts decoded together. Prompts (of any lengths) are
 * right-padded to the longest and encoded as one batch; then every completion of every prompt
 * advances one token per step as one [B * G, ...] batch, so a step pays TF.js's per-op overhead once
 * for the whole batch instead of once per prompt. Padded prompt keys are masked out; finished rows
 * keep being fed PAD (their logits are ignored); on cpu and wasm (runtime/policy/decode-ragged.ts)
 * prompts are not padded and finished rows are no longer fed. Token choice is on the host, one
 * read-back per step, drawing from the seeded stream prompt by prompt, completion by completion, at
 * each step.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { gatherFlat, matMul } from '../backends/fixes.js';
import type { TFModule } from '../backends/tf.js';
import { causalAttention, causalMask, dense, embed, head, mergeHeads, mlp, qkv, type Runner } from './model.js';
import type { PolicyParams } from './params.js';
import { RaggedDecoder } from './decode-ragged.js';
import { hasRaggedAttention } from './ragged-attention.js';
import { chooseToken, logSoftmaxAt, sumSquaredProbs, type SampleOptions, type SampleResult } from './sample.js';
import { EOS, PAD } from './tokenizer.js';

type Tensor = tfc.Tensor;

const NEG = -1e9;

/** [B * G * H, 1, X] (rows prompt-major, then completion, then head) -> [B * H, G, X]. */
function rowsToPromptHeads(tf: TFModule, x: Tensor, B: number, G: number, H: number): Tensor {
  const X = x.shape[2]!;
  return tf.reshape(tf.transpose(tf.reshape(x, [B, G, H, X]), [0, 2, 1, 3]), [B * H, G, X]);
}

/** [B * H, G, X] -> [B * G * H, 1, X]. */
function promptHeadsToRows(tf: TFModule, x: Tensor, B: number, G: number, H: number): Tensor {
  const X = x.shape[2]!;
  return tf.reshape(tf.transpose(tf.reshape(x, [B, H, G, X]), [0, 2, 1, 3]), [B * G * H, 1, X]);
}

/** Cached keys and values of one layer. */
interface LayerCache {
  readonly promptK: Tensor;
  readonly promptV: Tensor;
  ownK: Tensor | null;
  ownV: Tensor | null;
}

/** Incremental decoding of G continuations of each of B prompts, all rows at once. */
export class BatchDecoder {
  private readonly caches: LayerCache[] = [];
  private readonly keyMask: Tensor | null;
  private step = 0;
  /** Logits for the next token of every row [B * G, V] (row b * G + g). */
  next: Tensor;

  constructor(
    private readonly r: Runner,
    private readonly p: PolicyParams,
    private readonly prompts: readonly Int32Array[],
    private readonly G: number,
  ) {
    const { tf } = r;
    const B = prompts.length;
    const Pm = Math.max(...prompts.map((x) => x.length));
    const H = p.config.nHeads;
    const V = p.config.vocab;
    const scale = 1 / Math.sqrt(p.config.dModel / H);
    const ids = new Int32Array(B * Pm).fill(PAD);
    prompts.forEach((x, b) => ids.set(x, b * Pm));
    const padded = prompts.some((x) => x.length < Pm);
    const mask = new Float32Array(B * Pm);
    prompts.forEach((x, b) => mask.fill(NEG, b * Pm + x.length, (b + 1) * Pm));
    // Completion rows see only their prompt's real keys: [B * H, 1, Pm] broadcast over the G queries.
    this.keyMask = padded ? tf.tidy(() => tf.reshape(tf.tile(tf.tensor3d(mask, [B, 1, Pm]), [1, H, 1]), [B * H, 1, Pm])) : null;
    const last = new Int32Array(B * G);
    prompts.forEach((x, b) => last.fill(b * Pm + x.length - 1, b * G, (b + 1) * G));
    this.next = tf.tidy(() => {
      // Right padding comes after every real token, so the causal mask keeps it from real queries.
      let h = embed(r, p, ids, B, Pm, 0);
      const causal = causalMask(tf, Pm);
      for (const b of p.blocks) {
        const x = qkv(tf, h, b, H);
        this.caches.push({ promptK: tf.keep(x.k), promptV: tf.keep(x.v), ownK: null, ownV: null });
        h = mlp(tf, tf.add(h, dense(tf, mergeHeads(tf, causalAttention(tf, x, scale, causal), B, H), b.wo)), b);
      }
      const logits = tf.reshape(head(tf, p, h), [B * Pm, V]);
      return gatherFlat(tf, logits, last, r.backend);
    });
  }

  /** Feed one token per row [B * G]; `next` becomes the logits that follow them. */
  feed(tokens: Int32Array): void {
    const { tf } = this.r;
    const { p, G } = this;
    const B = this.prompts.length;
    const N = B * G;
    const H = p.config.nHeads;
    const d = p.config.dModel;
    const scale = 1 / Math.sqrt(d / H);
    const Pm = Math.max(...this.prompts.map((x) => x.length));
    // Each row continues after its own prompt (a finished row's position is clamped: it is ignored).
    const pos = new Int32Array(N);
    this.prompts.forEach((x, b) => pos.fill(Math.min(p.config.maxLen - 1, x.length + this.step), b * G, (b + 1) * G));
    const old = this.next;
    this.next = tf.tidy(() => {
      let h = tf.reshape(tf.add(gatherFlat(tf, p.tokEmb, tokens, this.r.backend), gatherFlat(tf, p.posEmb, pos, this.r.backend)), [N, 1, d]);
      p.blocks.forEach((b, l) => {
        const c = this.caches[l]!;
        const { q, k, v } = qkv(tf, h, b, H);
        const ownK = c.ownK === null ? k : tf.concat([c.ownK, k], 1);
        const ownV = c.ownV === null ? v : tf.concat([c.ownV, v], 1);
        tf.dispose([c.ownK, c.ownV].filter((t): t is Tensor => t !== null));
        c.ownK = tf.keep(ownK);
        c.ownV = tf.keep(ownV);
        let scores = matMul(tf, rowsToPromptHeads(tf, q, B, G, H), c.promptK, false, true);
        if (this.keyMask !== null) scores = tf.add(scores, this.keyMask);
        const toPrompt = promptHeadsToRows(tf, scores, B, G, H);
        const toSelf = matMul(tf, q, ownK, false, true);
        const att = tf.softmax(tf.mul(tf.concat([toPrompt, toSelf], -1), scale), -1);
        const [ap, as] = tf.split(att, [Pm, this.step + 1], -1) as [Tensor, Tensor];
        const out = tf.add(promptHeadsToRows(tf, tf.matMul(rowsToPromptHeads(tf, ap, B, G, H), c.promptV), B, G, H), tf.matMul(as, ownV));
        h = mlp(tf, tf.add(h, dense(tf, mergeHeads(tf, out, N, H), b.wo)), b);
      });
      return tf.reshape(head(tf, p, h), [N, p.config.vocab]);
    });
    old.dispose();
    this.step++;
  }

  /** Free the caches and the pending logits. */
  dispose(): void {
    const { tf } = this.r;
    for (const c of this.caches) tf.dispose([c.promptK, c.promptV, ...[c.ownK, c.ownV].filter((t): t is Tensor => t !== null)]);
    if (this.keyMask !== null) this.keyMask.dispose();
    this.next.dispose();
  }
}

/**
 * Sample `o.n` completions of each prompt, all prompts decoded together (see the module comment):
 * one result per prompt, as `sampleCompletions` gives. `forced` holds one list per prompt (each a
 * list per completion, as in SampleOptions). At each step, tokens are drawn prompt by prompt,
 * completion by completion.
 */
export async function sampleBatch(r: Runner, p: PolicyParams, prompts: readonly Int32Array[], o: Omit<SampleOptions, 'forced'> & { readonly forced?: readonly (readonly (readonly number[])[])[] }): Promise<SampleResult[]> {
  const B = prompts.length;
  if (B === 0) return [];
  const G = o.n;
  const N = B * G;
  const V = p.config.vocab;
  const forced: number[][] = [];
  const limit: number[] = [];
  prompts.forEach((prompt, b) => {
    const room = p.config.maxLen - prompt.length;
    for (let g = 0; g < G; g++) {
      const f = (o.forced?.[b]?.[g] ?? []).slice(0, room);
      forced.push(f);
      // Each completion: its forced tokens, then up to maxTokens sampled ones, within the context.
      limit.push(Math.min(room, f.length + o.maxTokens));
    }
  });
  const steps = Math.max(0, ...limit);
  const seqs: number[][] = Array.from({ length: N }, () => []);
  const lps: number[][] = Array.from({ length: N }, () => []);
  const sq: number[][] = Array.from({ length: N }, () => []);
  const ended = limit.map(() => false);
  const done = limit.map((l) => l === 0);
  // On cpu and wasm only the rows still decoding are fed (RaggedDecoder); elsewhere every row.
  const dec = hasRaggedAttention(r.backend) ? new RaggedDecoder(r, p, prompts, G, steps) : new BatchDecoder(r, p, prompts, G);
  try {
    for (let t = 0; t < steps && done.some((x) => !x); t++) {
      // A macrotask turn per token: signals (a second Ctrl-C) are handled during long samples.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const logits = await dec.next.data();
      // The rows `logits` holds, ascending (row i at its position in `rows`).
      const rows = dec instanceof RaggedDecoder ? dec.rows : null;
      const chosen = new Int32Array(N).fill(PAD);
      const count = rows === null ? N : rows.length;
      for (let k = 0; k < count; k++) {
        const i = rows === null ? k : rows[k]!;
        if (done[i]) continue;
        const f = forced[i]!;
        const row = logits.subarray(k * V, (k + 1) * V);
        const tok = t < f.length ? f[t]! : chooseToken(row, o.temperature, o.topP, o.uniform);
        chosen[i] = tok;
        seqs[i]!.push(tok);
        lps[i]!.push(logSoftmaxAt(row, tok));
        sq[i]!.push(sumSquaredProbs(row));
        if (t >= f.length && (tok === EOS || o.stopAfter?.(seqs[i]!.slice(f.length)) === true)) {
          done[i] = true;
          ended[i] = true;
        }
        if (seqs[i]!.length >= limit[i]!) done[i] = true;
      }
      if (t + 1 < steps && done.some((x) => !x)) {
        if (dec instanceof RaggedDecoder) {
          const live = Int32Array.from(dec.rows.filter((i) => !done[i]));
          dec.feed(Int32Array.from(live, (i) => chosen[i]!), live);
        } else dec.feed(chosen);
      }
    }
  } finally {
    dec.dispose();
  }
  return prompts.map((_, b) => {
    const rows = seqs.slice(b * G, (b + 1) * G);
    const R = Math.max(1, ...rows.map((s) => s.length));
    const ids = new Int32Array(G * R).fill(PAD);
    const logps = new Float32Array(G * R);
    const sumPiSq = new Float32Array(G * R);
    rows.forEach((s, g) => {
      ids.set(s, g * R);
      logps.set(lps[b * G + g]!, g * R);
      sumPiSq.set(sq[b * G + g]!, g * R);
    });
    return { ids, lengths: rows.map((s) => s.length), R, logps, sumPiSq, truncated: ended.slice(b * G, (b + 1) * G).map((e) => !e) };
  });
}
