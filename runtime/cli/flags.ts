/**
 * Numeric flags, parsed and range-checked in one place: a value out of range is a usage error
 * naming the flag, the range and what was given (never silently 0, Infinity or a wrapped integer).
 */
import { UsageError } from './io.js';

/** An integer flag within [min, max]. */
export function intFlag(flag: string, v: string, min: number, max: number): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} takes an integer in [${min}, ${max}], found \`${v}\``);
  return n;
}

/** A positive integer flag, at most `max`. */
export function positiveInt(flag: string, v: string, max = 10_000_000): number {
  return intFlag(flag, v, 1, max);
}

/** A non-negative integer flag, at most `max`. */
export function nonNegativeInt(flag: string, v: string, max = 10_000_000): number {
  return intFlag(flag, v, 0, max);
}

/** `--seed`: an integer in [0, 2^31 - 1]. */
export function seedFlag(v: string): number {
  return intFlag('--seed', v, 0, 2 ** 31 - 1);
}

/** `--lr`: a finite learning rate in (0, 1]. */
export function learningRate(v: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!(Number.isFinite(n) && n > 0 && n <= 1)) throw new UsageError(`--lr takes a learning rate in (0, 1], found \`${v}\``);
  return n;
}

/** A duration flag in seconds, in (0, max]; returned in milliseconds. */
export function secondsFlag(flag: string, v: string, max = 86_400): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!(Number.isFinite(n) && n > 0 && n <= max)) throw new UsageError(`${flag} takes seconds in (0, ${max}], found \`${v}\``);
  return n * 1000;
}
