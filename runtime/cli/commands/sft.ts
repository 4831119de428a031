/** `rlp sft [--task T | --data F.jsonl] ...`: supervised warm start of the policy. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listChoices } from '../../../compiler/suggest.js';
import { BackendUnavailable, type BackendName } from '../../backends/index.js';
import { EXIT, progressLogger, UsageError } from '../io.js';
import { learningRate, positiveInt, seedFlag } from '../flags.js';
import { TASKS, taskByName } from '../../tasks/index.js';

/** Options of `rlp sft`. */
export interface SftCmdOptions {
  readonly task: string;
  readonly steps: string;
  readonly batch: string;
  readonly lr: string;
  readonly seed: string;
  readonly out?: string;
  readonly backend: BackendName;
  readonly saveEvery: string;
}

/** Run `rlp sft`; returns the exit code. */
export async function runSftCmd(o: SftCmdOptions): Promise<number> {
  const task = taskByName(o.task);
  if (task === undefined) throw new UsageError(`no built-in task \`${o.task}\`; the tasks are ${listChoices(TASKS.map((t) => t.name))}`);
  const steps = positiveInt('--steps', o.steps);
  const batch = positiveInt('--batch', o.batch, 4096);
  const saveEvery = positiveInt('--save-every', o.saveEvery);
  const lr = learningRate(o.lr);
  const seed = seedFlag(o.seed);
  const out = o.out ?? `runs/sft-${task.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const { useBackend } = await import('../../backends/index.js');
  const { initPolicy, policyVariables } = await import('../../policy/params.js');
  const { charTokenizer } = await import('../../policy/tokenizer.js');
  const { adamState } = await import('../../train/adam.js');
  const { defaultPolicyConfig, save } = await import('../../train/loop.js');
  const { runSft } = await import('../../train/sft.js');
  let ctx;
  try {
    ctx = await useBackend(o.backend);
  } catch (e) {
    if (!(e instanceof BackendUnavailable)) throw e;
    process.stderr.write(`error: ${e.message}\n  = help: ${e.help}\n`);
    return EXIT.user;
  }
  const { tf, info } = ctx;
  const config = defaultPolicyConfig();
  const policy = initPolicy(tf, config, seed);
  const state = adamState(tf, policyVariables(policy));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'config.json'), JSON.stringify({ kind: 'sft', task: task.name, steps, batch, lr, seed, policy: config, backend: info.name }, null, 2) + '\n');
  const progress = progressLogger();
  await runSft({
    rows: (i) => task.row(seed + 1, i), steps, batch, lr, seed, out, saveEvery, runner: { tf, backend: info.name }, policy, state,
    tokenizer: charTokenizer(), log: progress.log,
    save: (step) => save(tf, out, step, policy, state, { step, kind: 'sft', task: task.name }),
  });
  progress.done();
  process.stderr.write(`sft checkpoint written to ${out}\n`);
  return EXIT.ok;
}
