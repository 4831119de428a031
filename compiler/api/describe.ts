/** Text that describes symbols to a reader: signatures, declarations, types with their level. */
import type { Binding, FnDecl, PipelineDecl } from '../../grammar/ast.js';
import { spanText } from '../../grammar/source.js';
import type { OpDef } from '../ops/define.js';
import { OPS } from '../ops/index.js';
import { levelOf, type Type } from '../types.js';

/** What each block of a pipeline is for (hover and completion of block keywords). */
export const BLOCK_DOCS: Readonly<Record<string, string>> = Object.freeze({
  params: 'settings of the pipeline: `name: type = default "doc"`; `rlp run --set name=value` changes them',
  state: 'values carried across training steps: `name: f32[...] = init`',
  inputs: 'inputs this pipeline reads besides the standard ones, fed like them: `name: f32[B,G] "doc"`',
  sample: 'how completions are sampled: `rollout(n = ..., temperature = ..., max_tokens = ...)`',
  reward: 'one reward per completion, from reward functions by name (`correct`, `format`, `length`)',
  advantage: 'the advantage of each completion or token; its last binding is the pipeline\'s `advantage`',
  normalize: 'normalization of the advantages across the batch',
  loss: 'the per-token and per-sequence terms, and one `minimize` of a scalar',
  update: 'new values of the state variables, after the step: `name = expression`',
});

/** The standard dimensions' meanings. */
export const DIM_DOCS: Readonly<Record<string, string>> = Object.freeze({
  B: 'prompts in the batch',
  G: 'completions sampled per prompt (the group); 2 for preference data: 0 chosen, 1 rejected',
  T: 'completion tokens',
  V: 'vocabulary',
});

/** `mean(x, over DIMS, where MASK)`: an op's DSL signature. */
export function opSignature(op: OpDef): string {
  return `${op.dsl ?? op.name}(${opParams(op).join(', ')})`;
}

/** The parameter labels of an op's signature, in order. */
export function opParams(op: OpDef): string[] {
  const ins = op.inputs.map((i) => (i.default === undefined ? i.name : `${i.name} = ${typeof i.default === 'string' ? JSON.stringify(i.default) : String(i.default)}`));
  if (op.over === 'required') ins.push('over DIMS');
  if (op.where === true) ins.push('where MASK');
  return ins;
}

/** The ops callable under a DSL name (an elementwise op and a reduction may share one). */
export function opsNamed(name: string): OpDef[] {
  return OPS.filter((o) => o.dsl === name);
}

/** `fn kl_k3(logp, ref_logp)` with annotations as written. */
export function fnSignature(fd: FnDecl): string {
  const ps = fd.params.map((p) => (p.type === null ? p.name.name : `${p.name.name}: ${spanText(p.type.span)}`));
  return `fn ${fd.name.name}(${ps.join(', ')})${fd.returnType === null ? '' : ': ' + spanText(fd.returnType.span)}`;
}

/** The parameter labels of a function, in order. */
export function fnParams(fd: FnDecl): string[] {
  return fd.params.map((p) => (p.type === null ? p.name.name : `${p.name.name}: ${spanText(p.type.span)}`));
}

/** A declaration as written, without its trailing doc string: `group: int = 8 in [1, 4096]`. */
export function declarationText(b: Binding): string {
  const text = spanText(b.span).replace(/\s+/g, ' ').trim();
  return b.docString === null ? text : text.replace(/\s*"(?:[^"\\]|\\.)*"$/, '');
}

/** A binding's doc: its doc string, else its `///` comment. */
export function docOf(b: Binding): string {
  return b.docString ?? b.doc;
}

/** `token level`, `sequence level`, ... (`not a tensor` for strings and rollouts). */
export function levelPhrase(t: Type): string {
  return t.kind === 'tensor' ? `${levelOf(t)} level` : 'not a tensor';
}

/** `pipeline ipo extends dpo`. */
export function pipelineHeader(pd: PipelineDecl): string {
  return `pipeline ${pd.name.name}${pd.parent === null ? '' : ' extends ' + pd.parent.name}`;
}
