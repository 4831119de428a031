/** A numeric param's declared range (`in [lo, hi)`): membership and the printed form. */
import { formatNumber } from './print-number.js';

/** `[lo, hi]` with each end included or excluded; an open end may be infinite. */
export interface ParamRange {
  readonly lo: number;
  readonly hi: number;
  readonly loInclusive: boolean;
  readonly hiInclusive: boolean;
}

/** Whether `v` lies in the range. */
export function inRange(r: ParamRange, v: number): boolean {
  const aboveLo = r.loInclusive ? v >= r.lo : v > r.lo;
  const belowHi = r.hiInclusive ? v <= r.hi : v < r.hi;
  return aboveLo && belowHi;
}

/** The range as written in the language: `[0, 1)`. */
export function formatRange(r: ParamRange): string {
  return `${r.loInclusive ? '[' : '('}${formatNumber(r.lo)}, ${formatNumber(r.hi)}${r.hiInclusive ? ']' : ')'}`;
}
