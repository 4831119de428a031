/**
 * `rlp export --target torch`: a pipeline's optimized, unfused IR as a Python module that imports
 * only torch. One function per stage (`compute_advantage`, `compute_loss`, `compute_update`), each
 * returning its value and its named bindings as metrics; adapters for verl and TRL on request.
 * The sample stage stays with the trainer's generator and the reward stage with its reward
 * functions: their results are arguments.
 */
import { basename } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diag } from '../diagnostics/diagnostic.js';
import type { CompiledPipeline } from '../compile.js';
import { dependsOn, type IrGraph, type IrOutput } from '../ir/graph.js';
import { adapterFor, type Adapter } from './adapters.js';
import { emitStage, StageError, type StageFn, type StageSpec } from './emit-stage.js';
import { helpersFor } from './prelude.js';
import { samplingNotes } from './sampling.js';

/** The trainers an export can be wrapped for. */
export const EXPORT_TARGETS = ['plain', 'verl', 'trl'] as const;
export type ExportFor = (typeof EXPORT_TARGETS)[number];

/** An exported module: its source, its functions (for tests and adapters), and diagnostics. */
export interface TorchExport {
  readonly code: string;
  readonly functions: readonly StageFn[];
  /** Errors stop the export (code is then empty); warnings say what is not exported. */
  readonly diagnostics: readonly Diagnostic[];
}

/** The graph to export: the optimized graph before any fusion pass (fused regions export as their members). */
export function unfusedGraph(p: CompiledPipeline): IrGraph {
  let g = p.raw;
  for (const [name, after] of p.after) {
    if (name.includes('fuse')) break;
    g = after;
  }
  return g;
}


export type { StageFn } from './emit-stage.js';

const bare = (o: IrOutput): string => o.name.slice(o.name.indexOf('.') + 1);

/** Inputs that are the reward stage's business (the trainer's reward functions compute or use them). */
const REWARD_INPUTS = new Set(['reward', 'token_reward', 'greedy_reward']);

/**
 * Nodes that depend on what the trainer's reward side provides: a reward function's result, a
 * reward input, a declared input (`inputs { ... }`) or state. The rest (a length from the mask)
 * a stage can compute from the standard inputs itself.
 */
function rewardDependent(g: IrGraph): Set<number> {
  const declared = new Set((g.meta.inputs ?? []).map((d) => d.name));
  const out = new Set<number>();
  for (const n of g.ordered()) {
    const name = String(n.attrs['name']);
    const source = n.op === 'reward_fn' || n.op === 'state' || (n.op === 'input' && (REWARD_INPUTS.has(name) || declared.has(name)));
    if (source || n.inputs.some((i) => out.has(i))) out.add(n.id);
  }
  return out;
}

/**
 * The reward stage's results the trainer computes (its reward functions: `reward.NAME` arguments):
 * those that depend on a reward, a declared input or state. Results computed from the standard
 * inputs alone (HAPO's `L = seq_len(mask)`) the stages that read them compute themselves.
 */
export function trainerRewards(g: IrGraph): IrOutput[] {
  const dep = rewardDependent(g);
  return g.outputs.filter((o) => o.name.startsWith('reward.') && g.node(o.node).type.kind === 'tensor' && dep.has(o.node));
}

/** The stage functions to emit, with what each is given rather than computes. */
export function stageSpecs(g: IrGraph): StageSpec[] {
  const stage = (s: string): IrOutput[] => g.outputs.filter((o) => o.name.startsWith(`${s}.`) && g.node(o.node).type.kind === 'tensor');
  const logp = g.ordered().find((n) => n.op === 'input' && n.attrs['name'] === 'logp');
  const rewards = new Map(trainerRewards(g).map((o) => [o.node, { name: bare(o), feed: o.name }]));
  const fromRewards = rewardDependent(g);
  const adv = stage('advantage');
  const main = adv[adv.length - 1];
  const specs: StageSpec[] = [];
  const advCut = new Map(rewards);
  if (main !== undefined) {
    specs.push({ fn: 'compute_advantage', doc: `The advantage stage of \`${g.meta.pipeline}\`: returns (${bare(main)}, metrics).`, main, metrics: adv, cut: rewards });
    // The loss is given what the advantage stage computed from the rewards (or declared inputs, or
    // state); values it can compute from its own inputs (those reading logp, for their gradient; a
    // length from the mask) it recomputes.
    for (const o of adv) {
      if (logp !== undefined && dependsOn(g, o.node, logp.id)) continue;
      if (o !== main && !fromRewards.has(o.node)) continue;
      advCut.set(o.node, { name: o === main ? 'advantages' : bare(o), feed: o.name });
    }
  }
  const loss = g.outputs.find((o) => o.name === 'loss');
  if (loss !== undefined) {
    const metrics = [...stage('normalize'), ...stage('loss')];
    specs.push({ fn: 'compute_loss', doc: `The loss stage of \`${g.meta.pipeline}\`: returns (loss, metrics); differentiate loss.`, main: loss, metrics, cut: advCut });
  }
  const updates = stage('update');
  if (updates.length > 0) {
    specs.push({ fn: 'compute_update', doc: `The update block of \`${g.meta.pipeline}\`: the state for the next step, as (first, all by name).`, main: updates[0]!, metrics: updates, cut: advCut });
  }
  return specs;
}

/** Export a compiled pipeline as Python source for PyTorch, wrapped for a trainer. */
export function exportTorch(p: CompiledPipeline, target: ExportFor = 'plain'): TorchExport {
  const g = unfusedGraph(p);
  const diags: Diagnostic[] = [];
  const fns: StageFn[] = [];
  try {
    for (const spec of stageSpecs(g)) fns.push(emitStage(g, spec, diags));
  } catch (e) {
    if (!(e instanceof StageError)) throw e;
    diags.push(e.diagnostic);
  }
  const sampling = samplingNotes(g);
  for (const what of sampling.notExported) diags.push(diag('RLP5012', sampling.span!, { pipeline: g.meta.pipeline, what }));
  if (diags.some((d) => d.severity === 'error')) return { code: '', functions: fns, diagnostics: diags };
  const adapter: Adapter | null = target === 'plain' ? null : adapterFor(target, g, fns);
  const body = [...fns.map((f) => f.code), ...(adapter === null ? [] : [adapter.code])].join('\n\n\n');
  const helpers = helpersFor(body);
  const code = [
    header(p, g, sampling.summary, sampling.notExported, fns),
    'import torch',
    ...(adapter?.imports !== undefined ? [adapter.imports] : []),
    ...(helpers === '' ? [] : ['', '', '# ---- helpers: the semantics of rlp\'s ops where torch differs (masks, zero denominators, ties)', '', helpers]),
    '',
    '',
    '# ---- the pipeline, one line per IR node',
    '',
    body,
    '',
  ].join('\n');
  return { code, functions: fns, diagnostics: diags };
}

/** Choice params are resolved at compile time: say which branch this file is, and how to get another. */
function choiceLines(g: IrGraph): string[] {
  const chosen = g.meta.params.filter((p) => p.type === 'choice' && p.chosen !== undefined);
  if (chosen.length === 0) return [];
  return [
    'Choices fixed at export (compile time; this code is the chosen branch only):',
    ...chosen.map((p) => `  ${p.name} = ${JSON.stringify(p.chosen)}  (of ${p.choices!.map((c) => JSON.stringify(c)).join(', ')})`),
    `To change one, export again: rlp export ... --set ${chosen[0]!.name}=VALUE.`,
  ];
}

function header(p: CompiledPipeline, g: IrGraph, sampling: string, notExported: readonly string[], fns: readonly StageFn[]): string {
  const doc = g.meta.doc.trim().split('\n').map((l) => l.trimEnd());
  const rewards = [...new Set(fns.flatMap((f) => f.args.filter((a) => a.feed.startsWith('reward.')).map((a) => `\`${a.name}\``)))];
  const lines = [
    `"""rlp pipeline \`${g.meta.pipeline}\` for PyTorch, generated by \`rlp export --target torch\` from ${basename(p.file)}.`,
    '',
    ...(doc.length > 0 && doc[0] !== '' ? [...doc, ''] : []),
    'Edit the .rlp source and export again rather than editing this file. Tensors are laid out',
    '[B, G, T]: B prompts, G completions per prompt, T completion tokens (padding where mask is 0).',
    '',
    `Not exported (stays with the trainer): sampling, ${sampling}.`,
    ...notExported.map((w) => `  Not reproduced: ${w}.`),
    ...choiceLines(g),
    ...(rewards.length > 0 ? [`The reward stage is the trainer's reward functions: pass its result as ${rewards.join(', ')}.`] : []),
    '"""',
  ];
  return lines.join('\n');
}
