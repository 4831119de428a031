/** The op registry: every op, listed explicitly (no registration by import side effect). */
import type { OpDef } from './define.js';
import { add, div, mul, neg, pow, sub } from './arith.js';
import { and, eq, ge, gt, le, lt, ne, not, or } from './compare.js';
import { rollout, stateWrite } from './effects.js';
import { abs, cos, exp, floorOp, log, logSigmoid, sigmoidOp, sin, softplusOp, sqrt, stopGradient, tanh, toFloat } from './math.js';
import { count, mean, reduceMax, reduceMin, std, sum, variance } from './reduce.js';
import { clip, maximum, minimum, select } from './select.js';
import { discountedCumsum, lag, shift } from './scan.js';
import { lgamma } from './special.js';
import { rank } from './rank.js';
import { groupMean, groupSum } from './group-mean.js';
import { fillBackward, fillForward } from './fill.js';
import { pairLogSigmoid } from './pairs.js';
import { rankDesc } from './rank-desc.js';
import { expand, sort, take } from './shape.js';
import { fused } from './fused.js';
import { constant, input, param, rewardFn, stateRead } from './sources.js';

/** All ops. */
export const OPS: readonly OpDef[] = Object.freeze([
  add, sub, mul, div, pow, neg,
  exp, log, sqrt, abs, sigmoidOp, logSigmoid, softplusOp, tanh, toFloat, stopGradient,
  lgamma, cos, sin, floorOp,
  clip, minimum, maximum, select,
  lt, le, gt, ge, eq, ne, and, or, not,
  sum, mean, variance, std, reduceMax, reduceMin, count,
  expand, take, sort, rank, rankDesc, groupMean, groupSum, pairLogSigmoid,
  shift, lag, discountedCumsum, fillForward, fillBackward,
  constant, param, input, stateRead, rewardFn,
  rollout, stateWrite,
  fused,
]);

const BY_NAME = new Map(OPS.map((o) => [o.name, o]));

/** The op with this IR name, or undefined. */
export function opByName(name: string): OpDef | undefined {
  return BY_NAME.get(name);
}

/** Ops callable from the DSL under `dsl` (an elementwise and a reduction may share a name). */
export function opsByDsl(dsl: string): readonly OpDef[] {
  return BY_DSL.get(dsl) ?? [];
}

const BY_DSL = new Map<string, OpDef[]>();
for (const o of OPS) if (o.dsl !== null) BY_DSL.set(o.dsl, [...(BY_DSL.get(o.dsl) ?? []), o]);

/** Every DSL-callable name, sorted. */
export function dslNames(): string[] {
  return [...new Set(OPS.flatMap((o) => (o.dsl === null ? [] : [o.dsl])))].sort();
}

/** Binary operator syntax -> op. */
export const BINARY_OPS: Readonly<Record<string, OpDef>> = Object.freeze({
  '+': add, '-': sub, '*': mul, '/': div, '**': pow,
  '<': lt, '<=': le, '>': gt, '>=': ge, '==': eq, '!=': ne, and, or,
});
