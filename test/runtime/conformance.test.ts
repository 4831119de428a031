/**
 * Registry-driven conformance: every op's TF.js lowering against the reference interpreter, on
 * random inputs of several shapes, forward and gradient (against central finite differences of
 * the float64 reference), on cpu and wasm always and on webgpu wherever an adapter exists.
 * Tolerances are relative with a unit floor: |a - b| <= tol * max(1, |b|).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attrs, OpDef } from '../../compiler/ops/define.js';
import { OPS } from '../../compiler/ops/index.js';
import { tensor, type DType, type TensorType } from '../../compiler/types.js';
import { useBackend, webgpuAvailable, type BackendName } from '../../runtime/backends/index.js';
import type { TFModule } from '../../runtime/backends/tf.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { named, type NamedArray } from '../../runtime/reference/named-array.js';
import { rng } from '../helpers/random-batch.js';
import { singleOpGraph } from '../helpers/single-op.js';
import { gradTf, runTf } from '../helpers/tf-run.js';

const BACKENDS: BackendName[] = ['cpu', 'wasm', ...((await webgpuAvailable()) ? (['webgpu'] as const) : [])];
const FORWARD_TOL: Record<string, number> = { cpu: 1e-5, wasm: 1e-4, webgpu: 1e-4 };
const GRAD_TOL = 2e-3;
const SIZES = [{ B: 2, G: 3, T: 4 }, { B: 1, G: 2, T: 1 }];

/** One way to call an op: input types, attrs, and how to draw each input. */
interface Case {
  readonly label: string;
  readonly types: TensorType[];
  readonly attrs: Attrs;
  readonly draw: ((r: () => number) => number)[];
  /** Inputs whose gradient is checked. */
  readonly diff: number[];
}

const uniform = (lo: number, hi: number) => (r: () => number) => lo + (hi - lo) * r();
const signedAway = (r: () => number) => (r() < 0.5 ? -1 : 1) * (0.5 + 1.5 * r());
const bit = (r: () => number) => (r() < 0.5 ? 0 : 1);
const small = (r: () => number) => Math.floor(r() * 3);

function drawFor(op: OpDef, k: number): (r: () => number) => number {
  if (op.inputs[k]?.kind === 'bool') return bit;
  if (['lt', 'le', 'gt', 'ge', 'eq', 'ne'].includes(op.name)) return small;
  if (['log', 'sqrt'].includes(op.name) || (op.name === 'pow' && k === 0)) return uniform(0.5, 2);
  if (op.name === 'lgamma') return uniform(0.05, 12);
  if (op.name === 'div' && k === 1) return signedAway;
  if (op.name === 'clip' && k === 1) return uniform(-1, -0.5);
  if (op.name === 'clip' && k === 2) return uniform(0.5, 1);
  return uniform(-2, 2);
}

function casesFor(op: OpDef): Case[] {
  const bgt = ['B', 'G', 'T'];
  const dtypeOf = (k: number): DType => (op.inputs[k]?.kind === 'bool' ? 'bool' : 'f32');
  const floatInputs = (n: number) => [...Array(n).keys()].filter((k) => dtypeOf(k) === 'f32');
  if (op.traits.includes('elementwise')) {
    const n = op.inputs.length;
    const shapes = [Array(n).fill(bgt), [bgt, ...Array(n - 1).fill(['B', 'G'])], [['B'], ...Array(n - 1).fill([])]];
    return shapes.slice(0, n === 1 ? 2 : 3).map((dims, i) => ({
      label: `inputs ${dims.map((d: string[]) => `[${d.join(',')}]`).join(' ')}#${i}`,
      types: dims.map((d: string[], k: number) => tensor(dtypeOf(k), d)),
      attrs: {},
      draw: dims.map((_: unknown, k: number) => drawFor(op, k)),
      diff: op.name === 'stop_gradient' || ['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or', 'not'].includes(op.name) ? [] : floatInputs(n),
    }));
  }
  if (op.traits.includes('reduction')) {
    const withWhere = (over: string[]): Case => ({
      label: `over [${over.join(',')}] where mask`,
      types: [tensor('f32', bgt), tensor('f32', bgt, null, 'mask')],
      attrs: { over, where: true, ...(op.inputs.some((i) => i.name === 'correction') ? { correction: 1 } : {}) },
      draw: [uniform(-2, 2), bit],
      diff: [0],
    });
    const plain = (over: string[]): Case => ({
      label: `over [${over.join(',')}]`,
      types: [tensor('f32', bgt)],
      attrs: { over, ...(op.inputs.some((i) => i.name === 'correction') ? { correction: 1 } : {}) },
      draw: [uniform(-2, 2)],
      diff: [0],
    });
    return [plain(['T']), plain(['B', 'G', 'T']), withWhere(['T']), withWhere(['G']), withWhere(['B', 'G', 'T'])];
  }
  if (op.name === 'expand') return [{ label: '[B,G] over T', types: [tensor('f32', ['B', 'G'])], attrs: { over: ['T'] }, draw: [uniform(-2, 2)], diff: [0] }];
  if (op.name === 'lag') return [{ label: '[B,G,T] over T', types: [tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['T'] }, draw: [uniform(-2, 2)], diff: [0] }];
  if (op.name === 'shift') return [{ label: '[B,G,T] over T', types: [tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['T'] }, draw: [uniform(-2, 2)], diff: [0] }];
  if (op.name === 'discounted_cumsum') {
    return [{ label: '[B,G,T] over T, gamma', types: [tensor('f32', ['B', 'G', 'T']), tensor('f32', [])], attrs: { over: ['T'] }, draw: [uniform(-2, 2), uniform(0.5, 1)], diff: [0, 1] }];
  }
  if (op.name === 'group_mean') return [{ label: '[B,G,T] by a key in {0,1,2} over G', types: [tensor('f32', ['B', 'G', 'T']), tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['G'] }, draw: [uniform(-2, 2), small], diff: [0] }];
  if (op.name === 'group_sum') {
    return [
      { label: '[B,G,T] by a key in {0,1,2} over G', types: [tensor('f32', ['B', 'G', 'T']), tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['G'] }, draw: [uniform(-2, 2), small], diff: [0] },
      { label: '[B,G,T] by a key in {0,1,2} over [G, T]', types: [tensor('f32', ['B', 'G', 'T']), tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['G', 'T'] }, draw: [uniform(-2, 2), small], diff: [0] },
    ];
  }
  if (op.name === 'fill_forward' || op.name === 'fill_backward') {
    return [{ label: '[B,G,T] flagged by a 0/1 over T', types: [tensor('f32', ['B', 'G', 'T']), tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['T'] }, draw: [uniform(-2, 2), bit], diff: [0] }];
  }
  if (op.name === 'pair_logsigmoid') {
    return [
      { label: '[B,G,T] by a key in {0,1,2} over G, scale of x\'s dims', types: [tensor('f32', ['B', 'G', 'T']), tensor('f32', ['B', 'G', 'T']), tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['G'] }, draw: [uniform(-2, 2), small, uniform(0.5, 2)], diff: [0, 2] },
      { label: '[B,G] by a key in {0,1,2} over G, scalar scale', types: [tensor('f32', ['B', 'G']), tensor('f32', ['B', 'G']), tensor('f32', [])], attrs: { over: ['G'] }, draw: [uniform(-2, 2), small, uniform(0.5, 2)], diff: [0, 2] },
    ];
  }
  if (op.name === 'rank') return [{ label: '[B,G,T] over G', types: [tensor('f32', ['B', 'G', 'T'])], attrs: { over: ['G'] }, draw: [uniform(-2, 2)], diff: [0] }];
  if (op.name === 'rank_desc') {
    return [
      { label: '[B,G,T] over [B,G,T] where mask', types: [tensor('f32', bgt), tensor('f32', bgt, null, 'mask')], attrs: { over: ['B', 'G', 'T'], where: true }, draw: [uniform(-2, 2), bit], diff: [0] },
      { label: '[B,G,T] over [G,T]', types: [tensor('f32', bgt)], attrs: { over: ['G', 'T'] }, draw: [uniform(-2, 2)], diff: [0] },
    ];
  }
  if (op.name === 'sort') return [{ label: '[B] over B', types: [tensor('f32', ['B'])], attrs: { over: ['B'] }, draw: [uniform(-2, 2)], diff: [0] }];
  if (op.name === 'take') return [{ label: '[B,G,T] at G=1', types: [tensor('f32', bgt)], attrs: { dim: 'G', index: 1 }, draw: [uniform(-2, 2)], diff: [0] }];
  if (op.name === 'state_update') return [{ label: '[B]', types: [tensor('f32', ['B'])], attrs: { name: 's' }, draw: [uniform(-2, 2)], diff: [0] }];
  return [];
}

function randomInputs(c: Case, sizes: Record<string, number>, seed: number): Record<string, NamedArray> {
  const r = rng(seed);
  const out: Record<string, NamedArray> = {};
  c.types.forEach((t, k) => {
    const shape = t.dims.map((d) => sizes[d]!);
    const n = shape.reduce((a, b) => a * b, 1);
    out[`x${k}`] = named(t.dims, shape, Array.from({ length: n }, () => Math.fround(c.draw[k]!(r))));
  });
  return out;
}

function expectClose(actual: Float64Array, expected: Float64Array, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (!Number.isFinite(e)) {
      expect(a, `${what}[${i}]`).toBe(e);
      continue;
    }
    const ok = Math.abs(a - e) <= tol * Math.max(1, Math.abs(e));
    if (!ok) expect.fail(`${what}[${i}]: got ${a}, want ${e} (tol ${tol})`);
  }
}

/** Central finite differences of sum(cot * y) on the float64 reference. */
function finiteDiff(g: ReturnType<typeof singleOpGraph>, inputs: Record<string, NamedArray>, k: number, cot: NamedArray, sizes: Record<string, number>): Float64Array {
  const x = inputs[`x${k}`]!;
  const f = (xs: Record<string, NamedArray>): number => {
    const y = interpretOutputs(g, { inputs: xs, sizes })['loss.y']!;
    return y.data.reduce((s, v, i) => s + (cot.data[i] === 0 ? 0 : v * cot.data[i]!), 0);
  };
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(x.data[i]!));
    const up = Float64Array.from(x.data);
    const dn = Float64Array.from(x.data);
    up[i]! += h;
    dn[i]! -= h;
    out[i] = (f({ ...inputs, [`x${k}`]: { ...x, data: up } }) - f({ ...inputs, [`x${k}`]: { ...x, data: dn } })) / (2 * h);
  }
  return out;
}

const OPS_WITH_CASES = OPS.filter((o) => o.lower !== undefined && casesFor(o).length > 0);

describe.each(BACKENDS)('ops on the %s backend', (backend) => {
  let tf: TFModule;
  let before = 0;
  beforeAll(async () => {
    tf = (await useBackend(backend)).tf;
    before = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(before);
  });

  it('covers every op that has a lowering', () => {
    // `fused` has no single-op cases: the fuse pass makes it, and its lowering is checked on every
    // stdlib pipeline (test/compiler/passes/differential.test.ts, test/compiler/codegen/js-kernel.test.ts).
    const lowered = OPS.filter((o) => o.lower !== undefined && !o.traits.includes('source') && o.name !== 'fused');
    expect(OPS_WITH_CASES.map((o) => o.name).sort()).toEqual(lowered.map((o) => o.name).sort());
  });

  for (const op of OPS_WITH_CASES) {
    it(`${op.name}: forward equals the reference, gradient equals finite differences`, async () => {
      await useBackend(backend);
      for (const c of casesFor(op)) {
        const g = singleOpGraph(op, c.types, c.attrs);
        for (const [si, sizes] of SIZES.entries()) {
          const inputs = randomInputs(c, sizes, 1000 * si + op.name.length);
          const ref = interpretOutputs(g, { inputs, sizes })['loss.y']!;
          const got = await runTf(tf, backend, g, inputs, sizes);
          expectClose(got, ref.data, FORWARD_TOL[backend]!, `${op.name} ${c.label} forward`);
          const cr = rng(7 + si);
          // Entries that are +-inf (a max over nothing) are constant: they get no cotangent.
          const cot = named(ref.dims, ref.shape, Array.from(ref.data, (v) => (Number.isFinite(v) ? Math.fround(2 * cr() - 1) : 0)));
          for (const k of c.diff) {
            const tg = await gradTf(tf, backend, g, inputs, `x${k}`, cot, sizes);
            expectClose(tg, finiteDiff(g, inputs, k, cot, sizes), GRAD_TOL, `${op.name} ${c.label} d/dx${k}`);
          }
        }
      }
    });
  }

  it('reduces over an empty axis to the reference value (0 for sum, mean, var, std, count) for every reduction op', async () => {
    await useBackend(backend);
    const reductions = OPS.filter((o) => o.traits.includes('reduction') && o.lower !== undefined && casesFor(o).length > 0);
    expect(reductions.map((o) => o.name)).toEqual(expect.arrayContaining(['sum', 'mean', 'var', 'std', 'reduce_max', 'reduce_min', 'count']));
    for (const op of reductions) {
      for (const c of casesFor(op)) {
        const g = singleOpGraph(op, c.types, c.attrs);
        for (const sizes of [{ B: 2, G: 4, T: 0 }, { B: 0, G: 4, T: 3 }]) {
          const inputs = randomInputs(c, sizes, 5);
          const ref = interpretOutputs(g, { inputs, sizes })['loss.y']!;
          const got = await runTf(tf, backend, g, inputs, sizes);
          expect(Array.from(got), `${op.name} ${c.label} ${JSON.stringify(sizes)}`).toEqual(Array.from(ref.data));
        }
      }
    }
  });

  it('stop_gradient passes values and blocks gradients', async () => {
    const op = OPS.find((o) => o.name === 'stop_gradient')!;
    const g = singleOpGraph(op, [tensor('f32', ['B'])], {});
    const inputs = { x0: named(['B'], [3], [1, -2, 3]) };
    expect(Array.from(await runTf(tf, backend, g, inputs))).toEqual([1, -2, 3]);
    expect(Array.from(await gradTf(tf, backend, g, inputs, 'x0', named(['B'], [3], [1, 1, 1])))).toEqual([0, 0, 0]);
  });
});
