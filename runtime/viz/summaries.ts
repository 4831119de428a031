/**
 * `rlp viz --batch IN`: each binding's and fed input's value summarized for its label: shape,
 * min / mean / max over the entries its mask keeps, the fraction masked, and how many are NaN.
 */
import type { IrGraph } from '../../compiler/ir/graph.js';
import type { Type } from '../../compiler/types.js';
import type { HostTensor } from '../batch/read.js';

/** The summary of one value, as numbers. */
export interface ValueSummary {
  readonly shape: readonly number[];
  readonly min: number;
  readonly mean: number;
  readonly max: number;
  /** Entries the value's mask leaves out, as a fraction of all (0 without a mask). */
  readonly masked: number;
  /** NaN entries among those the mask keeps. */
  readonly nan: number;
}

/** Summarize `v`, keeping only entries where `mask` (of the same size) is non-zero. */
export function summarize(v: HostTensor, mask: HostTensor | null): ValueSummary {
  const keep = mask !== null && mask.data.length === v.data.length ? mask.data : null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  let nan = 0;
  let off = 0;
  for (let i = 0; i < v.data.length; i++) {
    if (keep !== null && keep[i] === 0) {
      off++;
      continue;
    }
    const x = v.data[i]!;
    if (Number.isNaN(x)) {
      nan++;
      continue;
    }
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
    n++;
  }
  return { shape: v.shape, min: n > 0 ? min : NaN, mean: n > 0 ? sum / n : NaN, max: n > 0 ? max : NaN, masked: v.data.length > 0 ? off / v.data.length : 0, nan };
}

const num = (x: number): string => (Number.isNaN(x) ? '-' : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(4))));

/** One line for a label: `[2,4,16] min -1 mean 0.2 max 3, 25% masked, 0 NaN`. */
export function summaryLine(s: ValueSummary): string {
  const masked = s.masked > 0 ? `, ${Number((s.masked * 100).toPrecision(3))}% masked` : '';
  return `[${s.shape.join(',')}] min ${num(s.min)} mean ${num(s.mean)} max ${num(s.max)}${masked}, ${s.nan} NaN`;
}

const maskOf = (t: Type): string | null => (t.kind === 'tensor' ? t.mask : null);

/** Summary lines by output name (`stage.name`, `loss`, `update.name`) and fed input name. */
export function summaryLines(g: IrGraph, outputs: Readonly<Record<string, HostTensor>>, fed: ReadonlyMap<string, HostTensor>): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of g.outputs) {
    const v = outputs[o.name];
    if (v === undefined) continue;
    const m = maskOf(g.node(o.node).type);
    out.set(o.name, summaryLine(summarize(v, m === null ? null : fed.get(m) ?? null)));
  }
  for (const n of g.ordered()) {
    if (n.op !== 'input') continue;
    const name = String(n.attrs['name']);
    const v = fed.get(name);
    if (v === undefined) continue;
    const m = maskOf(n.type);
    out.set(name, summaryLine(summarize(v, m === null ? null : fed.get(m) ?? null)));
  }
  return out;
}
