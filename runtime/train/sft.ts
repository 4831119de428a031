/**
 * Supervised warm start (`rlp sft`): teacher-forced next-token training on task rows, the answer
 * and EOS being the targets. It gives RL a policy whose reward is not zero.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TFModule } from '../backends/tf.js';
import { forward, pickLogProbs, type Runner } from '../policy/model.js';
import type { PolicyParams } from '../policy/params.js';
import { policyVariables } from '../policy/params.js';
import { BOS, EOS, PAD, type Tokenizer } from '../policy/tokenizer.js';
import type { TaskRow } from '../tasks/index.js';
import { adamStep, ADAM_DEFAULTS, type AdamState } from './adam.js';
import { TrainError } from './options.js';

/** Token ids, targets and target weights of a batch of rows, right-padded to one length. */
export function sftBatch(tok: Tokenizer, rows: readonly TaskRow[]): { ids: Int32Array; targets: Int32Array; weights: Float32Array; N: number; L: number } {
  const seqs = rows.map((r) => {
    const prompt = [BOS, ...tok.encode(r.prompt)];
    const answer = [...tok.encode(r.answer), EOS];
    return { all: [...prompt, ...answer], first: prompt.length };
  });
  const L = Math.max(...seqs.map((s) => s.all.length)) - 1;
  const N = rows.length;
  const ids = new Int32Array(N * L).fill(PAD);
  const targets = new Int32Array(N * L).fill(PAD);
  const weights = new Float32Array(N * L);
  seqs.forEach((s, i) => {
    for (let t = 0; t < s.all.length - 1; t++) {
      ids[i * L + t] = s.all[t]!;
      targets[i * L + t] = s.all[t + 1]!;
      // Only the answer and EOS are learned: position t predicts token t + 1.
      if (t + 1 >= s.first) weights[i * L + t] = 1;
    }
  });
  return { ids, targets, weights, N, L };
}

/** One SFT step: mean NLL of the answer tokens; returns the loss. */
export async function sftStep(tf: TFModule, r: Runner, p: PolicyParams, state: AdamState, tok: Tokenizer, rows: readonly TaskRow[], lr: number): Promise<number> {
  const b = sftBatch(tok, rows);
  const vars = policyVariables(p);
  const w = tf.tensor2d(b.weights, [b.N, b.L]);
  const total = b.weights.reduce((a, x) => a + x, 0);
  const { value, grads } = tf.variableGrads(() => {
    const lp = pickLogProbs(tf, forward(r, p, b.ids, b.N, b.L), b.targets);
    return tf.div(tf.neg(tf.sum(tf.mul(lp, w))), total) as tfc.Scalar;
  }, vars);
  const list = vars.map((v) => grads[v.name]!);
  const norm = await adamStep(tf, vars, list, state, { ...ADAM_DEFAULTS, lr });
  const loss = (await value.data())[0]!;
  tf.dispose([value, w, ...list]);
  // adamStep changed nothing on a non-finite norm; stop before a later step can.
  if (!Number.isFinite(loss) || !Number.isFinite(norm)) throw new TrainError(`sft: the ${Number.isFinite(loss) ? `gradient norm is ${norm}` : `loss is ${loss}`}; no weight was changed (try a smaller --lr)`);
  return loss;
}

/** What `rlp sft` asks for. */
export interface SftOptions {
  readonly rows: (i: number) => TaskRow;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
  readonly out: string;
  readonly saveEvery: number;
  readonly log: (line: string) => void;
  readonly runner: Runner;
  readonly policy: PolicyParams;
  readonly state: AdamState;
  readonly tokenizer: Tokenizer;
  /** Called every `saveEvery` steps and at the end, with the step number. */
  readonly save: (step: number) => Promise<void>;
}

/** Run supervised warm-start steps; returns the loss of each step. */
export async function runSft(o: SftOptions): Promise<number[]> {
  const losses: number[] = [];
  let cursor = 0;
  const t0 = performance.now();
  for (let step = 1; step <= o.steps; step++) {
    const rows = Array.from({ length: o.batch }, () => o.rows(cursor++));
    losses.push(await sftStep(o.runner.tf, o.runner, o.policy, o.state, o.tokenizer, rows, o.lr));
    if (step % 50 === 0 || step === o.steps) o.log(`sft step ${step}/${o.steps}  loss ${losses[losses.length - 1]!.toFixed(4)}  ${((performance.now() - t0) / 1000).toFixed(0)}s`);
    if (step % o.saveEvery === 0 || step === o.steps) await o.save(step);
  }
  return losses;
}
