/** Checking a param's declared range (`in [1, 4096]`): bounds, emptiness, type, and the default. */
import type { Binding, Expr, RangeExpr } from '../../grammar/ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { formatRange, inRange, type ParamRange } from '../ir/param-range.js';
import { constEval, type ParamType } from './resolve-type.js';

/** A bound: a numeric constant, or `inf` / `-inf` for an open end. */
function bound(e: Expr): number | null {
  if (e.kind === 'Name' && e.name === 'inf') return Infinity;
  if (e.kind === 'Unary' && e.op === '-' && e.operand.kind === 'Name' && e.operand.name === 'inf') return -Infinity;
  const c = constEval(e);
  return c !== null && typeof c.value === 'number' ? c.value : null;
}

/** Resolve a param's range; reports RLP3031 for a malformed range. Null when none or malformed. */
export function resolveRange(name: string, r: RangeExpr, type: ParamType, out: Diagnostic[]): ParamRange | null {
  if (type !== 'int' && type !== 'float') {
    out.push(diag('RLP3031', r.span, { what: `param \`${name}\` is \`${type}\`; only \`int\` and \`float\` params have ranges` }));
    return null;
  }
  const lo = bound(r.lo);
  const hi = bound(r.hi);
  for (const [v, e] of [[lo, r.lo], [hi, r.hi]] as const) {
    if (v === null) out.push(diag('RLP3031', e.span, { what: 'a range bound must be a number (or `inf`, `-inf`)' }));
  }
  if (lo === null || hi === null) return null;
  const range: ParamRange = { lo, hi, loInclusive: r.loInclusive && Number.isFinite(lo), hiInclusive: r.hiInclusive && Number.isFinite(hi) };
  if (lo > hi || (lo === hi && !(range.loInclusive && range.hiInclusive))) {
    out.push(diag('RLP3031', r.span, { what: `the range ${formatRange(range)} of \`${name}\` holds no value` }, { help: 'write the lower bound first: `in [lo, hi]`' }));
    return null;
  }
  return range;
}

/** Report RLP3030 when a param's default lies outside its range. */
export function checkDefaultInRange(decl: Binding, range: ParamRange, value: number, out: Diagnostic[]): void {
  if (inRange(range, value)) return;
  out.push(diag('RLP3030', decl.value!.span, { name: decl.name.name, value: String(value), range: formatRange(range) }, {
    labels: decl.range === null ? [] : [{ span: decl.range.span, message: 'the range is declared here' }],
  }));
}
