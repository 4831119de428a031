/** `rlp run FILE|NAME [--task T | --data F.jsonl] ...`: train a policy with a pipeline. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findStdlibDir } from '../../../compiler/bind/host.js';
import { compileFiles, type CompileOptions } from '../../../compiler/compile.js';
import { hasErrors, type Diagnostic } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll } from '../../../compiler/diagnostics/render.js';
import { listChoices } from '../../../compiler/suggest.js';
import { BackendUnavailable, type BackendName } from '../../backends/index.js';
import { DataError } from '../../data/jsonl.js';
import { lowerProgram, ProgramError, type CompiledProgram } from '../../exec/program.js';
import { RewardError } from '../../rewards/module.js';
import { TASKS, taskByName } from '../../tasks/index.js';
import { EXIT, progressLogger, UsageError, useColor } from '../io.js';
import { learningRate, nonNegativeInt, positiveInt, secondsFlag, seedFlag } from '../flags.js';
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
  readonly rewardTimeout: string;
  readonly skipNonfinite: boolean;
  /** The options given on the command line (not defaults): a resumed run refuses those that conflict with its config. */
  readonly explicit?: ReadonlySet<string>;
  /** `0` trains on the unoptimized IR (`-O0`). */
  readonly optLevel?: string;
}

/** Exit codes of a run stopped by a signal: 128 + the signal's number. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * The flags a resumed run takes from its config.json, by option name: the config key, and how a
 * flag's text compares with the stored value. Only --steps, --save-every, --backend and
 * --reward-timeout may differ on a resume (they are recorded under `resumes`).
 */
const FIXED_ON_RESUME: readonly { readonly option: keyof RunCmdOptions; readonly flag: string; readonly key: string; norm(v: unknown): unknown }[] = [
  { option: 'seed', flag: '--seed', key: 'seed', norm: Number },
  { option: 'lr', flag: '--lr', key: 'lr', norm: Number },
  { option: 'prompts', flag: '--prompts', key: 'prompts', norm: Number },
  { option: 'task', flag: '--task', key: 'task', norm: (v) => v ?? null },
  { option: 'taskSize', flag: '--task-size', key: 'task_size', norm: (v) => (v === null ? null : Number(v)) },
  { option: 'data', flag: '--data', key: 'data', norm: (v) => (typeof v === 'string' ? resolve(v) : null) },
  { option: 'init', flag: '--init', key: 'init', norm: (v) => (v === 'none' || v === null ? null : resolve(String(v))) },
  { option: 'rewards', flag: '--rewards', key: 'rewards_module', norm: (v) => (typeof v === 'string' ? resolve(v) : null) },
  { option: 'microBatches', flag: '--micro-batches', key: 'micro_batches', norm: Number },
  { option: 'epochs', flag: '--epochs', key: 'epochs', norm: Number },
  { option: 'skipNonfinite', flag: '--skip-nonfinite', key: 'skip_nonfinite', norm: Boolean },
];

/** A resumed run's settings: its config.json, with every flag that conflicts with it refused. */
function resumedOptions(dir: string, o: RunCmdOptions): { o: RunCmdOptions; config: Record<string, unknown> } {
  const file = join(dir, 'config.json');
  if (!existsSync(dir)) throw new UsageError(`--resume: ${dir} does not exist`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new UsageError(`--resume: ${dir} is not an rlp run folder (${file} is missing or not valid JSON)`);
  }
  if (o.out !== undefined && resolve(o.out) !== resolve(dir)) throw new UsageError(`--resume ${dir} continues that folder; --out ${o.out} names another`);
  const explicit = o.explicit ?? new Set<string>();
  const merged: Record<string, unknown> = { ...o };
  for (const f of FIXED_ON_RESUME) {
    if (!(f.key in config)) continue;
    const stored = f.norm(config[f.key]);
    if (explicit.has(f.option) && f.norm(o[f.option]) !== stored) {
      throw new UsageError(`--resume: the run was started with ${f.flag} ${JSON.stringify(config[f.key])}; ${f.flag} ${JSON.stringify(o[f.option])} conflicts with it (a resumed run keeps its pipeline, params, data, init and seed; --steps, --save-every, --backend and --reward-timeout may change)`);
    }
    merged[f.option] = f.option === 'init' ? (config[f.key] === null ? 'none' : config[f.key]) : f.option === 'skipNonfinite' ? stored : config[f.key] === null ? (f.option === 'taskSize' ? o.taskSize : undefined) : String(config[f.key]);
  }
  const set = (config['set'] ?? {}) as Record<string, string>;
  for (const s of explicit.has('set') ? o.set : []) {
    const i = s.indexOf('=');
    const [k, v] = [s.slice(0, i), s.slice(i + 1)];
    if (set[k] !== v) throw new UsageError(`--resume: the run was started with ${set[k] === undefined ? `no --set ${k}` : `--set ${k}=${set[k]}`}; --set ${k}=${v} conflicts with it (a resumed run keeps its params)`);
  }
  merged['set'] = Object.entries(set).map(([k, v]) => `${k}=${v}`);
  return { o: merged as unknown as RunCmdOptions, config };
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
export async function runRun(target: string, given: RunCmdOptions): Promise<number> {
  const resumed = given.resume === undefined ? null : resumedOptions(given.resume, given);
  const o = resumed?.o ?? given;
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
  const lr = learningRate(o.lr);
  const numbers = {
    taskSize: nonNegativeInt('--task-size', o.taskSize), steps: positiveInt('--steps', o.steps), prompts: positiveInt('--prompts', o.prompts, 4096),
    seed: seedFlag(o.seed), saveEvery: positiveInt('--save-every', o.saveEvery), microBatches: positiveInt('--micro-batches', o.microBatches, 4096),
    epochs: positiveInt('--epochs', o.epochs, 100), rewardTimeoutMs: secondsFlag('--reward-timeout', o.rewardTimeout),
  };
  const t = resolveTarget(target);
  let inputs: CompileOptions;
  try {
    inputs = await compileInputs({ rewards: o.rewards, data: o.data, task });
  } catch (e) {
    if (!(e instanceof RewardError) && !(e instanceof DataError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.user;
  }
  const compiled = compileFiles([t.file], { ...inputs, set });
  if (compiled.diagnostics.length > 0) process.stderr.write(renderAll(compiled.diagnostics, 'human', useColor(process.stderr)) + '\n');
  if (hasErrors(compiled.diagnostics)) return EXIT.user;
  const cl = o.commandLine ?? commandLine([]);
  const bad = checkPipelineFlag(compiled.pipelines, o.pipeline, t.file, cl);
  if (bad !== null) {
    process.stderr.write(renderAll([bad], 'human', useColor(process.stderr)) + '\n');
    return EXIT.usage;
  }
  const p = pickPipeline(compiled.pipelines, o.pipeline ?? t.pipeline, t.file);
  if (resumed !== null && (resumed.config['pipeline'] !== p.name || (typeof resumed.config['file'] === 'string' && resolve(resumed.config['file']) !== resolve(p.file)))) {
    throw new UsageError(`--resume: ${o.resume} is a run of \`${String(resumed.config['pipeline'])}\` (${String(resumed.config['file'])}); \`${p.name}\` (${p.file}) conflicts with it`);
  }
  const setProblems: Diagnostic[] = [];
  checkParamSets(p.raw, set, cl, setProblems);
  if (setProblems.length > 0) {
    process.stderr.write(renderAll(setProblems, 'human', useColor(process.stderr)) + '\n');
    return EXIT.user;
  }
  let program: CompiledProgram;
  try {
    program = lowerProgram(p, { set, level: o.optLevel === '0' ? 'O0' : 'default' });
  } catch (e) {
    if (!(e instanceof ProgramError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.user;
  }
  const unfed = declaredInputsRead(program);
  if (unfed.length > 0) {
    process.stderr.write(`error: \`${p.name}\` reads the declared input${unfed.length > 1 ? 's' : ''} ${unfed.map((n) => `\`${n}\``).join(', ')}, which rlp run's sampler does not produce\n  = help: evaluate it with \`rlp eval ${p.name} --batch FILE\`, feeding ${unfed.length > 1 ? 'them' : 'it'} in the batch\n`);
    return EXIT.user;
  }
  const out = o.resume ?? o.out ?? `runs/${p.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  // The first SIGINT or SIGTERM finishes the step, saves a checkpoint and exits 130 or 143; a second one exits at once.
  let stop: keyof typeof SIGNAL_EXIT | null = null;
  const onSignal = (sig: keyof typeof SIGNAL_EXIT): void => {
    if (stop !== null) {
      process.stderr.write(`\n${sig} again: stopping now, without a checkpoint for this step\n`);
      process.exit(SIGNAL_EXIT[sig]);
    }
    stop = sig;
    process.stderr.write(`\ninterrupted (${sig}): finishing this step and saving a checkpoint (Ctrl-C again to abandon it)\n`);
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const { train, TrainError } = await import('../../train/loop.js');
  const { CheckpointError } = await import('../../train/checkpoint.js');
  const progress = progressLogger();
  const start = initFor(o.init === undefined || o.init === 'none' ? o.init : resolve(o.init), task?.name ?? null, o.data);
  progress.log(firstLine(p.name, out, start, numbers.seed, o.resume !== undefined));
  let metrics: Metrics[] = [];
  try {
    metrics = await train({
      program, task, taskSize: numbers.taskSize, data: o.data === undefined ? null : resolve(o.data), steps: numbers.steps, prompts: numbers.prompts,
      backend: o.backend, seed: numbers.seed, out, set, resume: o.resume !== undefined, rewardsModule: o.rewards === undefined ? null : resolve(o.rewards), lr,
      saveEvery: numbers.saveEvery, microBatches: numbers.microBatches, epochs: numbers.epochs, dryRun: o.dryRun,
      init: start.init,
      skipNonfinite: o.skipNonfinite, rewardTimeoutMs: numbers.rewardTimeoutMs,
      log: progress.log, stopRequested: () => stop !== null,
    });
  } catch (e) {
    if (e instanceof TrainError || e instanceof DataError || e instanceof RewardError || e instanceof BackendUnavailable || e instanceof CheckpointError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (e instanceof BackendUnavailable) process.stderr.write(`  = help: ${e.help}\n`);
      return EXIT.user;
    }
    throw e;
  } finally {
    progress.done();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  if (!o.dryRun) {
    const { writeReport } = await import('../../report/write.js');
    await writeReport(out, VERSION);
    process.stderr.write(summary(out, metrics) + '\n');
  }
  else process.stderr.write(`run written to ${out}\n`);
  return stop !== null ? SIGNAL_EXIT[stop] : EXIT.ok;
}

/** The declared inputs (`inputs { ... }`) a program reads: rlp run has nothing to feed them with. */
export function declaredInputsRead(program: CompiledProgram): string[] {
  return program.inputs.filter((i) => i.declared && i.read).map((i) => i.name);
}
