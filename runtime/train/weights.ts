/** The policy's weights and optimizer on disk: the default configuration, --init, checkpoints and restore. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TFModule } from '../backends/tf.js';
import { localName, policyVariables, type PolicyConfig, type PolicyParams } from '../policy/params.js';
import { charTokenizer } from '../policy/tokenizer.js';
import type { AdamState } from './adam.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { TrainError } from './options.js';

/** The default policy: a small character-level transformer (prompt + completion up to 96 tokens). */
export function defaultPolicyConfig(): PolicyConfig {
  return { vocab: charTokenizer().vocabSize, dModel: 48, nHeads: 4, nLayers: 2, dFF: 96, maxLen: 96 };
}

/** Load the weights of the latest complete checkpoint in `dir` into a policy (optimizer state not). */
export function loadWeights(tf: TFModule, p: PolicyParams, dir: string): string {
  const ck = latestCheckpoint(dir) ?? (isCheckpointDir(dir) ? dir : null);
  if (ck === null) throw new TrainError(`--init: ${dir} holds no complete checkpoint`);
  const c = loadCheckpoint(ck);
  for (const v of policyVariables(p)) {
    const w = c.weights[localName(v)];
    if (w === undefined || w.shape.join(',') !== v.shape.join(',')) {
      throw new TrainError(`--init: ${ck} does not fit this policy (\`${localName(v)}\` is missing or has another shape)`);
    }
    v.assign(tf.tensor(w.data, [...w.shape]));
  }
  return ck;
}

function isCheckpointDir(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json'));
}

/** Load a checkpoint's weights and optimizer state into a policy; returns the run state saved with it. */
export function restore(tf: TFModule, p: PolicyParams, state: AdamState, dir: string): Record<string, unknown> {
  const c = loadCheckpoint(dir);
  const vars = policyVariables(p);
  for (const v of vars) {
    const w = c.weights[localName(v)];
    if (w === undefined) throw new TrainError(`${dir} has no weights for \`${localName(v)}\`: it was made by another policy configuration`);
    v.assign(tf.tensor(w.data, [...w.shape]));
  }
  state.step = c.optimizer.step;
  vars.forEach((_, i) => {
    tf.dispose([state.m[i]!, state.v[i]!]);
    state.m[i] = tf.tensor(c.optimizer.m[i]!.data, [...c.optimizer.m[i]!.shape]);
    state.v[i] = tf.tensor(c.optimizer.v[i]!.data, [...c.optimizer.v[i]!.shape]);
  });
  return c.state;
}

/** Save a policy and its optimizer as checkpoint `step` under `out`. */
export async function save(tf: TFModule, out: string, step: number, p: PolicyParams, state: AdamState, extra: Record<string, unknown>): Promise<void> {
  const vars = policyVariables(p);
  const host = async (t: { data(): Promise<unknown>; shape: number[] }) => ({ shape: t.shape, data: Float32Array.from((await t.data()) as Float32Array) });
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const v of vars) weights[localName(v)] = await host(v);
  void tf;
  saveCheckpoint(out, {
    step,
    weights,
    optimizer: { step: state.step, m: await Promise.all(state.m.map(host)), v: await Promise.all(state.v.map(host)) },
    state: extra,
  });
}
