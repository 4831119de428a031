/**
 * Which batch entries a pipeline takes: real batches (dumped from TRL or verl, or shared by
 * several pipelines) carry every standard column, so a standard input the pipeline does not read
 * is ignored with one warning (an error under --strict); any other unknown name is an error.
 * Also: a fed binding that cuts earlier bindings of its stage off from the results is warned about.
 */
import { standardInput } from '../../compiler/check/inputs.js';
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import type { IrGraph } from '../../compiler/ir/graph.js';
import { didYouMean, listChoices } from '../../compiler/suggest.js';
import type { Span } from '../../grammar/source.js';
import type { BatchEntry } from '../batch/read.js';

/** The entries the pipeline can take, and diagnostics for the others. */
export function sortEntries(g: IrGraph, entries: readonly BatchEntry[], feedable: ReadonlyMap<string, number>, strict: boolean, fileSpan: Span, out: Diagnostic[]): BatchEntry[] {
  const unread: BatchEntry[] = [];
  const known = entries.filter((e) => {
    if (feedable.has(e.name)) return true;
    if (standardInput(e.name) !== undefined) unread.push(e);
    else out.push(diag('RLP6010', e.span, { name: e.name, pipeline: g.meta.pipeline }, { help: didYouMean(e.name, feedable.keys()) ?? `it reads ${listChoices([...feedable.keys()])}` }));
    return false;
  });
  if (unread.length > 0) {
    const names = unread.map((e) => `\`${e.name}\``).join(', ');
    const d = diag('RLP6032', strict ? unread[0]!.span : fileSpan, { names, pipeline: g.meta.pipeline, s: unread.length === 1 ? '' : 's', action: strict ? 'not allowed under --strict' : 'ignored' });
    out.push(strict ? { ...d, severity: 'error' } : d);
  }
  return known;
}

/** Warn when a fed binding leaves earlier bindings unused: their values no longer reach any result. */
export function bypassWarnings(g: IrGraph, fed: ReadonlyMap<string, number>, at: Span, out: Diagnostic[]): void {
  const fedIds = new Set(fed.values());
  const ancestors = (roots: Iterable<number>, stop: (id: number) => boolean): Set<number> => {
    const seen = new Set<number>();
    const stack = [...roots];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (!stop(id)) stack.push(...g.node(id).inputs);
    }
    return seen;
  };
  const bindings = g.outputs.filter((o) => o.name.includes('.') && !o.name.startsWith('update.'));
  for (const [name, id] of fed) {
    const n = g.node(id);
    if (n.op === 'input' || n.op === 'reward_fn') continue;
    const upstream = ancestors(n.inputs, () => false);
    const roots = g.outputs.filter((o) => !upstream.has(o.node) && !fedIds.has(o.node)).map((o) => o.node);
    const live = ancestors(roots, (x) => fedIds.has(x));
    const cut = bindings.filter((b) => upstream.has(b.node) && !live.has(b.node) && !fedIds.has(b.node)).map((b) => b.name);
    if (cut.length > 0) out.push(diag('RLP6033', at, { name, cut: listChoices(cut), s: cut.length === 1 ? '' : 's' }));
  }
}
