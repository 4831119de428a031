/** `rlp run FILE|NAME [--task T | --data F.jsonl] ...`: train a policy with a pipeline. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findStdlibDir } from '../../../compiler/bind/host.js';
import { compileFiles, type CompileOptions } from '../../../compiler/compile.js';
import { hasErrors, type Diagnostic } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll } from '../../../compiler/diagnostics/render.js';
import { listChoices } from '../../../compiler/suggest.js';
import { BackendUnavailable, type BackendName } from '../../backends/index.js';
import { DataError } from '../../data/jsonl.js';
import { RewardError } from '../../rewards/module.js';
import { TASKS, taskByName } from '../../tasks/index.js';
import { EXIT, progressLogger, UsageError, useColor } from '../io.js';
import { compileInputs } from '../compile-inputs.js';
import { resolveTarget } from '../resolve-target.js';
import { checkPipelineFlag, pickPipeline } from './pick.js';
import { firstLine, firstUnencodable, summary, type StartingPolicy } from '../run-summary.js';
import type { Metrics } from '../../train/options.js';
import { commandLine, type CommandLine } from '../command-line.js';
import { checkParamSets } from '../../eval/validate.js';
import { VERSION } from '../version.js';

/** Options of `rlp run`. */
export interface RunCmdOptions {
  readonly task?: string;
  readonly data?: string;
  readonly steps: string;
  readonly prompts: string;
  readonly taskSize: string;
  readonly backend: BackendName;
  readonly seed: string;
  readonly out?: string;
  readonly set: readonly string[];
  readonly resume?: string;
  readonly rewards?: string;
  readonly lr: string;
  readonly saveEvery: string;
  readonly microBatches: string;
  readonly epochs: string;
  readonly dryRun: boolean;
  readonly pipeline?: string;
  readonly init?: string;
  /** This invocation's command line (flag problems point into it). */
  readonly commandLine?: CommandLine;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive integer, found \`${v}\``);
  return n;
}

function nonNegativeInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a non-negative integer, found \`${v}\``);
  return n;
}

/** The shipped warm-start checkpoint of a built-in task, if the repository has one. */
export function shippedCheckpoint(task: string): string | null {
  const dir = join(findStdlibDir(), '..', 'runtime', 'policy', 'pretrained', task);
  return existsSync(join(dir, 'latest')) ? dir : null;
}

/**
 * `--init`: a folder, `none` (from scratch), or by default the shipped warm start: the task's, or,
 * for `--data`, the arithmetic warm start when every prompt fits its character tokenizer.
 */
function initFor(init: string | undefined, task: string | null, data: string | undefined): StartingPolicy {
  if (init === 'none') return { init: null, why: '--init none' };
  if (init !== undefined) return { init, why: '--init' };
  if (task !== null) {
    const ck = shippedCheckpoint(task);
    return ck === null ? { init: null, why: `no warm start is shipped for the task ${task}` } : { init: ck, why: `the shipped warm start of the task ${task}; --init none starts from random weights` };
  }
  const ck = shippedCheckpoint('arithmetic');
  if (data === undefined || ck === null) return { init: null, why: 'no shipped warm start' };
  const bad = firstUnencodable(data);
  if (bad !== null) return { init: null, why: `${data} holds ${JSON.stringify(bad)}, which the shipped warm start's tokenizer lacks` };
  return { init: ck, why: `the shipped warm start, whose tokenizer fits ${data}; --init none starts from random weights` };
}

/** Run `rlp run`; returns the exit code. */
export async function runRun(target: string, o: RunCmdOptions): Promise<number> {
  if (o.task !== undefined && o.data !== undefined) throw new UsageError('--task and --data exclude each other');
  const taskName = o.task ?? (o.data === undefined ? 'arithmetic' : undefined);
  const task = taskName === undefined ? null : taskByName(taskName) ?? null;
  if (taskName !== undefined && task === null) throw new UsageError(`no built-in task \`${taskName}\`; the tasks are ${listChoices(TASKS.map((t) => t.name))}`);
  const set: Record<string, string> = {};
  for (const s of o.set) {
    const i = s.indexOf('=');
    if (i <= 0) throw new UsageError(`--set takes NAME=VALUE, found \`${s}\``);
    set[s.slice(0, i)] = s.slice(i + 1);
  }
  const lr = Number(o.lr);
  if (!(lr > 0)) throw new UsageError(`--lr takes a positive number, found \`${o.lr}\``);
  const t = resolveTarget(target);
  let inputs: CompileOptions;
  try {
    inputs = await compileInputs({ rewards: o.rewards, data: o.data, task });
  } catch (e) {
    if (!(e instanceof RewardError) && !(e instanceof DataError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.user;
  }
  const compiled = compileFiles([t.file], inputs);
  if (compiled.diagnostics.length > 0) process.stderr.write(renderAll(compiled.diagnostics, 'human', useColor(process.stderr)) + '\n');
  if (hasErrors(compiled.diagnostics)) return EXIT.user;
  const cl = o.commandLine ?? commandLine([]);
  const bad = checkPipelineFlag(compiled.pipelines, o.pipeline, t.file, cl);
  if (bad !== null) {
    process.stderr.write(renderAll([bad], 'human', useColor(process.stderr)) + '\n');
    return EXIT.usage;
  }
  const p = pickPipeline(compiled.pipelines, o.pipeline ?? t.pipeline, t.file);
  const setProblems: Diagnostic[] = [];
  checkParamSets(p.ir, set, cl, setProblems);
  if (setProblems.length > 0) {
    process.stderr.write(renderAll(setProblems, 'human', useColor(process.stderr)) + '\n');
    return EXIT.user;
  }
  const out = o.resume ?? o.out ?? `runs/${p.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\ninterrupted: finishing this step and saving a checkpoint (Ctrl-C again to abandon it)\n');
  };
  process.on('SIGINT', onSigint);
  const { train, TrainError } = await import('../../train/loop.js');
  const progress = progressLogger();
  const start = initFor(o.init, task?.name ?? null, o.data);
  progress.log(firstLine(p.name, out, start, Number(o.seed) | 0, o.resume !== undefined));
  let metrics: Metrics[] = [];
  try {
    metrics = await train({
      pipeline: p, task, taskSize: nonNegativeInt('--task-size', o.taskSize), data: o.data ?? null, steps: positiveInt('--steps', o.steps), prompts: positiveInt('--prompts', o.prompts),
      backend: o.backend, seed: Number(o.seed) | 0, out, set, resume: o.resume !== undefined, rewardsModule: o.rewards ?? null, lr,
      saveEvery: positiveInt('--save-every', o.saveEvery), microBatches: positiveInt('--micro-batches', o.microBatches), epochs: positiveInt('--epochs', o.epochs), dryRun: o.dryRun,
      init: start.init,
      log: progress.log, stopRequested: () => stop,
    });
  } catch (e) {
    if (e instanceof TrainError || e instanceof DataError || e instanceof RewardError || e instanceof BackendUnavailable) {
      process.stderr.write(`error: ${e.message}\n`);
      if (e instanceof BackendUnavailable) process.stderr.write(`  = help: ${e.help}\n`);
      return EXIT.user;
    }
    throw e;
  } finally {
    progress.done();
    process.off('SIGINT', onSigint);
  }
  if (!o.dryRun) {
    const { writeReport } = await import('../../report/write.js');
    await writeReport(out, VERSION);
    process.stderr.write(summary(out, metrics) + '\n');
  } else process.stderr.write(`run written to ${out}\n`);
  return stop ? 130 : EXIT.ok;
}
