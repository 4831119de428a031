/** The `rlp` command line: flags are parsed by commander; each command lives in commands/. */
import { Command, CommanderError, Option } from 'commander';
import { runCheck } from './commands/check.js';
import { EMITS, runCompile, type Emit } from './commands/compile.js';
import { runExplain } from './commands/explain.js';
import { BACKEND_NAMES, DEFAULT_BACKEND, type BackendName } from '../backends/index.js';
import { EXIT, reportInternal, UsageError } from './io.js';
import { VERSION } from './version.js';
import { commandLine } from './command-line.js';
const formatOption = (): Option =>
  new Option('--format <format>', 'diagnostics as human (with code frames), short (one line each) or json').choices(['human', 'short', 'json']).default('human');

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const backendOption = (): Option =>
  new Option('--backend <name>', 'TF.js backend to compute on').choices([...BACKEND_NAMES]).default(DEFAULT_BACKEND);

function program(setCode: (c: number) => void, argv: readonly string[]): Command {
  const p = new Command('rlp')
    .description('rlp: a language, compiler and runtime for RL post-training loss pipelines')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  p.command('check')
    .description('check .rlp files and print diagnostics; exit 1 on any error (warnings do not fail)')
    .argument('<files...>', '.rlp files to check')
    .addOption(formatOption())
    .option('--rewards <module>', 'a .mjs module whose exported functions the reward stage may name')
    .option('--data <file>', 'a JSONL dataset: check that it has every column the named reward functions read')
    .action(async (files: string[], o: { format: 'human' | 'short' | 'json'; rewards?: string; data?: string }) => {
      // Without --rewards or --data nothing is read but the files: the loaders stay unloaded (a cold start).
      if (o.rewards === undefined && o.data === undefined) return setCode(runCheck(files, { format: o.format }));
      const { compileInputs } = await import('./compile-inputs.js');
      const { RewardError } = await import('../rewards/module.js');
      const { DataError } = await import('../data/jsonl.js');
      try {
        setCode(runCheck(files, { format: o.format, compile: await compileInputs(o) }));
      } catch (e) {
        if (!(e instanceof RewardError) && !(e instanceof DataError)) throw e;
        process.stderr.write(`error: ${e.message}\n`);
        setCode(EXIT.user);
      }
    });
  p.command('compile')
    .description('compile a file (or a stdlib pipeline by name) and print its optimized IR')
    .argument('<target>', 'a .rlp file, or the name of a standard pipeline such as grpo')
    .addOption(new Option('--emit <form>', 'output form').choices([...EMITS]).default('ir'))
    .option('--pipeline <name>', 'only this pipeline of the file')
    .addOption(new Option('--opt-level <n>', 'optimization level: 0 skips the passes (-O0 and -O1 are accepted too)').choices(['0', '1']).default('1'))
    .option('--dump-ir <when>', 'print the IR at a point of the pass pipeline: after:build, after:PASS')
    .addOption(formatOption())
    .action((target: string, o: { emit: Emit; pipeline?: string; optLevel: string; dumpIr?: string; format: 'human' | 'short' | 'json' }) =>
      setCode(runCompile(target, { emit: o.emit, optimize: o.optLevel !== '0', format: o.format, ...(o.pipeline !== undefined ? { pipeline: o.pipeline } : {}), ...(o.dumpIr !== undefined ? { dumpIr: o.dumpIr } : {}) })),
    );
  p.command('eval')
    .description('evaluate a pipeline on a batch of tensors: every binding, the loss, the advantage, and gradients')
    .argument('<target>', 'a .rlp file, or the name of a standard pipeline such as grpo')
    .requiredOption('--batch <file>', 'the batch: a .json or .msgpack object mapping input names to {"shape", "data"}')
    .option('--set <name=value>', 'set a param (repeatable)', collect, [])
    .option('--grad <name>', 'also output grad.NAME, the gradient of the loss with respect to this fed value (repeatable)', collect, [])
    .option('-o, --output <file>', 'write the results to a .json or .msgpack file instead of printing JSON')
    .addOption(backendOption())
    .option('--pipeline <name>', 'the pipeline to evaluate, when the file declares several')
    .option('--allow-nonfinite', 'accept NaN and infinite input values', false)
    .option('--strict', 'standard inputs the pipeline does not read are an error (default: ignored with a warning)', false)
    .option('--repeat <n>', 'after one warm-up, compute the loss (and gradients) N more times on the uploaded batch; adds "timing": {"ms", "min_ms", "n"} (median, compute only)')
    .option('--profile', 'print the kernels of one run (after a warm-up), with time and bytes written, slowest first, to stderr', false)
    .addOption(new Option('--opt-level <n>', 'optimization level: 0 skips the passes (-O0 and -O1 are accepted too)').choices(['0', '1']).default('1'))
    .action(async (target: string, o: { batch: string; set: string[]; grad: string[]; output?: string; backend: BackendName; pipeline?: string; allowNonfinite: boolean; repeat?: string; profile: boolean; optLevel: string; strict: boolean }) => {
      const { runEval } = await import('./commands/eval.js');
      setCode(await runEval(target, { ...o, commandLine: commandLine(argv) }));
    });
  p.command('run')
    .description('train a policy with a pipeline: rollouts, rewards, the pipeline\'s loss, Adam; metrics and checkpoints under --out')
    .argument('<target>', 'a .rlp file, or the name of a standard pipeline such as grpo')
    .option('--task <name>', 'a built-in task (arithmetic, sort); the default when no --data is given')
    .option('--data <file>', 'a JSONL dataset in TRL\'s format: prompt rows, or preference rows for pipelines without a sample stage (dpo...)')
    .option('--steps <n>', 'training steps', '30')
    .option('--task-size <n>', 'problems in the built-in task\'s training set, drawn from --seed and cycled (0: a new problem every time)', '128')
    .option('--prompts <n>', 'prompts per step', '32')
    .addOption(backendOption())
    .option('--seed <n>', 'the seed of everything random', '0')
    .option('--out <dir>', 'where the run is written (default runs/<pipeline>-<time>)')
    .option('--set <name=value>', 'set a param (repeatable)', collect, [])
    .option('--resume <dir>', 'continue the run in <dir> from its latest complete checkpoint')
    .option('--rewards <module>', 'a .mjs module whose exported functions are reward functions')
    .option('--lr <x>', 'Adam learning rate', '0.0003')
    .option('--save-every <n>', 'steps between checkpoints', '10')
    .option('--micro-batches <n>', 'micro-batches per step (the update does not depend on it)', '1')
    .option('--epochs <n>', 'optimizer passes over each step\'s rollouts', '1')
    .option('--pipeline <name>', 'the pipeline to train, when the file declares several')
    .option('--init <dir>', 'start from these weights (an rlp sft run); default: the task\'s shipped warm start; `none`: from scratch')
    .option('--dry-run', 'validate everything and write the resolved config, without training', false)
    .option('--reward-timeout <seconds>', 'how long a --rewards function may take per call before the run stops, naming it', '60')
    .option('--skip-nonfinite', 'skip a step whose loss or gradient norm is NaN or infinite (no weight changes) instead of stopping the run', false)
    .addOption(new Option('--opt-level <n>', 'optimization level: 0 trains on the unoptimized IR (-O0 and -O1 are accepted too)').choices(['0', '1']).default('1'))
    .action(async (target: string, o: import('./commands/run.js').RunCmdOptions, cmd: Command) => {
      const { runRun } = await import('./commands/run.js');
      const explicit = new Set(Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
      setCode(await runRun(target, { ...o, explicit, commandLine: commandLine(argv) }));
    });
  p.command('sft')
    .description('supervised warm start of the policy on a built-in task; its checkpoint seeds rlp run --init')
    .option('--task <name>', 'a built-in task (arithmetic, sort)', 'arithmetic')
    .option('--steps <n>', 'training steps', '3000')
    .option('--batch <n>', 'rows per step', '64')
    .option('--lr <x>', 'Adam learning rate', '0.003')
    .option('--seed <n>', 'the seed of everything random', '0')
    .option('--out <dir>', 'where the checkpoints are written (default runs/sft-<task>-<time>)')
    .option('--save-every <n>', 'steps between checkpoints', '500')
    .addOption(backendOption())
    .action(async (o: import('./commands/sft.js').SftCmdOptions) => {
      const { runSftCmd } = await import('./commands/sft.js');
      setCode(await runSftCmd(o));
    });
  p.command('viz')
    .description('draw a pipeline: bindings (or ops with --ops) by stage, types and masks on the edges; .dot, .svg or a self-contained .html')
    .argument('<target>', 'a .rlp file, or the name of a standard pipeline such as grpo')
    .requiredOption('-o, --output <file>', 'the file to write: .dot, .svg or .html')
    .option('--ops', 'one node per IR op instead of one per binding', false)
    .option('--optimized', 'draw the graph after the optimization passes (fused kernels outlined)', false)
    .addOption(new Option('--opt-level <n>', 'optimization level of the drawing: 1 is --optimized, 0 (the default) draws the pipeline as written (-O0 and -O1 are accepted too); --batch evaluates every binding unoptimized either way').choices(['0', '1']))
    .option('--diff <other>', 'draw this pipeline and another (a file or a standard name) in one picture, differences highlighted')
    .option('--batch <file>', 'evaluate on this batch (as rlp eval) and annotate every value with its summary')
    .option('--set <name=value>', 'set a param (repeatable)', collect, [])
    .option('--pipeline <name>', 'the pipeline to draw, when the file declares several')
    .addOption(backendOption())
    .action(async (target: string, o: import('./commands/viz.js').VizCmdOptions) => {
      const { runViz } = await import('./commands/viz.js');
      setCode(await runViz(target, o));
    });
  p.command('report')
    .description('write a self-contained HTML report of a run: metric charts, sample completions, the pipeline graph, the run manifest')
    .argument('<dir>', 'the run folder (rlp run --out)')
    .option('-o, --output <file>', 'the file to write (default DIR/report.html)')
    .action(async (dir: string, o: { output?: string }) => {
      const { runReport } = await import('./commands/report.js');
      setCode(await runReport(dir, o));
    });
  p.command('export')
    .description('export a pipeline for PyTorch trainers: one torch function per stage, optionally wrapped for verl or TRL')
    .argument('<target>', 'a .rlp file, or the name of a standard pipeline such as grpo')
    .addOption(new Option('--target <lang>', 'what to export to').choices(['torch']).makeOptionMandatory())
    .addOption(new Option('--for <trainer>', 'wrap the functions for a trainer: verl (registered estimator and policy loss), trl (a GRPOTrainer subclass) or plain').choices(['plain', 'verl', 'trl']).default('plain'))
    .option('-o, --output <file>', 'write the Python module here (.py) instead of printing it')
    .option('--pipeline <name>', 'the pipeline to export, when the file declares several')
    .option('--set <name=value>', 'pick a choice param (resolved at compile time; repeatable)', collect, [])
    .addOption(formatOption())
    .action(async (target: string, o: import('./commands/export.js').ExportCmdOptions) => {
      const { runExport } = await import('./commands/export.js');
      setCode(runExport(target, o));
    });
  p.command('list')
    .description('the standard pipelines, with a one-line summary each')
    .action(async () => {
      const { runList } = await import('./commands/list.js');
      setCode(runList());
    });
  p.command('env')
    .description('print versions and what each backend reports on this machine')
    .addOption(new Option('--probe <backend>', 'print one backend\'s status line (used by rlp env itself)').choices([...BACKEND_NAMES]).hideHelp())
    .action(async (o: { probe?: string }) => {
      const { runEnv } = await import('./commands/env.js');
      setCode(await runEnv(o.probe));
    });
  p.command('explain')
    .description('explain a diagnostic code (RLP3001), a standard pipeline (grpo), an op (clip), or list ops (ops)')
    .argument('<what>', 'RLPxxxx, a pipeline name, an op name, or "ops"')
    .action((what: string) => setCode(runExplain(what)));
  p.command('lsp')
    .description('language server over stdio, for editors (VS Code, Neovim, Helix)')
    .option('--stdio', 'talk over stdin and stdout (the only transport; accepted because clients pass it)')
    .action(async () => {
      const { runLsp } = await import('./commands/lsp.js');
      setCode(await runLsp());
    });
  return p;
}

/** Run the CLI with argv (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  try {
    const args = argv.map((a) => (/^-O[01]$/.test(a) ? `--opt-level=${a.slice(2)}` : a));
    await program((c) => (code = c), argv).parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT.usage;
    }
    return reportInternal(e);
  }
}
