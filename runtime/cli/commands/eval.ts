/** `rlp eval FILE|NAME --batch IN [--set k=v]... [--grad NAME] [-o OUT]`: batch-mode evaluation. */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { compileFiles } from '../../../compiler/compile.js';
import { diag, hasErrors, type Diagnostic } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll, renderShort } from '../../../compiler/diagnostics/render.js';
import { listChoices } from '../../../compiler/suggest.js';
import { span } from '../../../grammar/source.js';
import { BackendUnavailable, type BackendName } from '../../backends/index.js';
import { BATCH_EXTENSIONS, readBatch } from '../../batch/read.js';
import { resultsToJson, writeResults } from '../../batch/write.js';
import { StepError } from '../../exec/executor.js';
import type { EvalTiming } from '../../eval/evaluate.js';
import { EXIT, parseSets, UsageError, useColor } from '../io.js';
import { resolveTarget } from '../resolve-target.js';
import { checkPipelineFlag, pickPipeline } from './pick.js';
import { commandLine, type CommandLine } from '../command-line.js';

/** Options of `rlp eval`. */
export interface EvalCmdOptions {
  readonly batch: string;
  readonly set: readonly string[];
  readonly grad: readonly string[];
  readonly output?: string;
  readonly backend: BackendName;
  readonly pipeline?: string;
  readonly allowNonfinite: boolean;
  /** Standard inputs the pipeline does not read are an error. */
  readonly strict?: boolean;
  /** This invocation's command line (flag problems point into it). */
  readonly commandLine?: CommandLine;
  /** After one warm-up, time this many more runs of the loss and gradients (`--repeat N`). */
  readonly repeat?: string;
  /** Print the kernels of one run, slowest first, to stderr (`--profile`). */
  readonly profile?: boolean;
  /** Skip the optimization passes (`-O0`). */
  readonly optLevel?: string;
}

function report(ds: readonly Diagnostic[]): void {
  if (ds.length > 0) process.stderr.write(renderAll(ds, 'human', useColor(process.stderr)) + '\n');
}

/** Run `rlp eval`; returns the exit code. */
export async function runEval(target: string, opts: EvalCmdOptions): Promise<number> {
  const ext = extname(opts.batch).toLowerCase();
  if (!(BATCH_EXTENSIONS as readonly string[]).includes(ext)) throw new UsageError(`--batch takes a ${listChoices([...BATCH_EXTENSIONS])} file, found \`${opts.batch}\``);
  if (!existsSync(opts.batch)) throw new UsageError(`cannot read \`${opts.batch}\`: no such file`);
  if (opts.output !== undefined && !['.json', '.msgpack', '.mpk'].includes(extname(opts.output).toLowerCase())) {
    throw new UsageError(`-o takes a .json or .msgpack file, found \`${opts.output}\``);
  }
  const set = parseSets(opts.set);
  const repeat = opts.repeat === undefined ? undefined : Number(opts.repeat);
  if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1)) throw new UsageError(`--repeat takes a whole number of runs, at least 1, found \`${opts.repeat}\``);
  const t = resolveTarget(target);
  const compiled = compileFiles([t.file], { set });
  report(compiled.diagnostics);
  if (hasErrors(compiled.diagnostics)) return EXIT.user;
  const cl = opts.commandLine ?? commandLine([]);
  const bad = checkPipelineFlag(compiled.pipelines, opts.pipeline, t.file, cl);
  if (bad !== null) {
    report([bad]);
    return EXIT.usage;
  }
  const p = pickPipeline(compiled.pipelines, opts.pipeline ?? t.pipeline, t.file);
  let batch;
  try {
    batch = readBatch(opts.batch);
  } catch (e) {
    const why = fsReason(e);
    if (why === null) throw e;
    process.stderr.write(`error: cannot read ${opts.batch}: ${why}\n`);
    return EXIT.user;
  }
  if (batch.diagnostics.length > 0) {
    report(batch.diagnostics);
    return EXIT.user;
  }
  const { validateBatch } = await import('../../eval/validate.js');
  const v = validateBatch(p.ir, batch.entries, { set, grad: opts.grad, allowNonfinite: opts.allowNonfinite, strict: opts.strict === true, fileSpan: span(batch.file, 0, 0), args: cl });
  if (v.valid === null) {
    report(v.diagnostics);
    return EXIT.user;
  }
  // Warnings about the batch are one line each: it is read on every evaluation.
  for (const d of v.diagnostics) process.stderr.write(renderShort(d) + '\n');
  const { batchProgram, planBatch } = await import('../../eval/specialize.js');
  const valid = planBatch(batchProgram(p, v.valid, opts.optLevel !== '0'), v.valid);
  const { useBackend } = await import('../../backends/index.js');
  const { evaluate } = await import('../../eval/evaluate.js');
  let results;
  let timing: EvalTiming | null = null;
  try {
    const { tf, info } = await useBackend(opts.backend);
    if (opts.profile === true) {
      const { profileEval, formatProfile } = await import('../../eval/profile.js');
      process.stderr.write(formatProfile(await profileEval(tf, info.name, valid, opts.grad)));
    }
    results = await evaluate(tf, info.name, valid, opts.grad, repeat === undefined ? {} : { repeat, onTiming: (x) => (timing = x) });
  } catch (e) {
    if (e instanceof BackendUnavailable) {
      report([diag('RLP5001', span(batch.file, 0, 0), { backend: e.backend, detail: e.message }, { help: e.help })]);
      return EXIT.user;
    }
    if (e instanceof StepError) {
      report([diag('RLP6020', e.node.spans[0]!, { detail: e.message })]);
      return EXIT.user;
    }
    throw e;
  }
  const extras = timing === null ? {} : { timing };
  if (opts.output === undefined) process.stdout.write(resultsToJson(results, extras));
  else {
    try {
      writeResults(opts.output, results, extras);
    } catch (e) {
      const why = fsReason(e);
      if (why === null) throw e;
      process.stderr.write(`error: cannot write ${opts.output}: ${why}\n`);
      return EXIT.user;
    }
  }
  return EXIT.ok;
}

/** A file-system error as words (`it is a folder (EISDIR)`), or null for anything else. */
function fsReason(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return null;
  const words: Record<string, string> = {
    EISDIR: 'it is a folder', ENOENT: 'no such file or folder', EACCES: 'permission denied', ENOTDIR: 'a part of the path is not a folder',
    ENOSPC: 'no space left on the device', EROFS: 'the file system is read-only', EFBIG: 'the file is too large',
  };
  return `${words[code] ?? (e as Error).message} (${code})`;
}
