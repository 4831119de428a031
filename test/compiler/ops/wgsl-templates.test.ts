/**
 * Every op's WGSL templates (`wgsl`) agree with its `scalar` and `grad`: every elementwise op with
 * scalar semantics has them, and on the webgpu backend (lavapipe in CI; skipped without an
 * adapter unless RLP_REQUIRE_WEBGPU=1) one program per op evaluates its value and partials on
 * random operands and a few extremes, compared in f32 precision to the float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { WGSL_PRELUDE } from '../../../compiler/codegen/wgsl-prelude.js';
import { launchWgsl } from '../../../compiler/codegen/wgsl-lower.js';
import { OPS } from '../../../compiler/ops/index.js';
import { useBackend, webgpuAvailable } from '../../../runtime/backends/index.js';
import { rng } from '../../helpers/random-batch.js';

const available = (await webgpuAvailable()) || process.env['RLP_REQUIRE_WEBGPU'] === '1';
const withTemplates = OPS.filter((o) => o.wgsl !== undefined);
const POSITIVE = ['log', 'sqrt', 'pow', 'lgamma'];
/**
 * Value tolerance (relative, or absolute below 1): f32 rounding. lgamma's f32 form adds terms of
 * size ~10 (Stirling's series at x + 8 less the log of the shift product), so where lgamma
 * crosses zero (x = 1, 2) its error is a few 1e-6 absolute, as in its TF.js lowering.
 */
const VALUE_TOL: Record<string, number> = { lgamma: 1e-5 };

/** Operand tuples: random ones (some whole numbers, some equal pairs), then extremes for unary ops. */
function operands(op: (typeof OPS)[number]): number[][] {
  const r = rng(op.name.length * 7919);
  const out: number[][] = [];
  for (let t = 0; t < 200; t++) {
    const xs = op.inputs.map((spec) => (spec.kind === 'bool' ? (r() < 0.5 ? 0 : 1) : t % 10 === 0 ? Math.round(4 * r() - 2) : 4 * r() - 2));
    if (t % 17 === 0 && xs.length >= 2 && op.inputs[1]!.kind !== 'bool') xs[1] = xs[0]!;
    if (POSITIVE.includes(op.name)) xs[0] = Math.abs(xs[0]!) + 0.1;
    out.push(xs.map((x) => Math.fround(x)));
  }
  if (op.inputs.length === 1 && op.inputs[0]!.kind !== 'bool') for (const x of POSITIVE.includes(op.name) ? [30, 1e-3] : [-30, 30, 0, 1e-3]) out.push([x]);
  return out;
}

describe('WGSL templates', () => {
  it('cover every elementwise op that has scalar semantics', () => {
    const missing = OPS.filter((o) => o.traits.includes('elementwise') && o.scalar !== undefined && o.wgsl === undefined).map((o) => o.name);
    expect(missing).toEqual([]);
  });

  for (const op of withTemplates) {
    it.runIf(available)(`${op.name}: value and partial derivatives equal scalar and grad (f32, on webgpu)`, async () => {
      const { tf } = await useBackend('webgpu');
      const xs = operands(op);
      const n = xs.length;
      const k = op.inputs.length;
      const r = rng(3);
      const gs = xs.map(() => Math.fround(r() - 0.5));
      const names = op.inputs.map((_, i) => `a${i}`);
      const grads = op.wgsl!.grad(names, 'g', 'y');
      const code = [
        WGSL_PRELUDE,
        'fn main(index: i32) {',
        '_ = uniforms.NAN; _ = arrayLength(&L0); _ = arrayLength(&L1);',
        `if (index >= ${n}) { return; }`,
        ...names.map((a, i) => `let ${a}: f32 = L0[index * ${k} + ${i}];`),
        'let g: f32 = L1[index];',
        `let y: f32 = ${op.wgsl!.value(names)};`,
        `result[index * ${k + 1}] = y;`,
        ...grads.map((e, i) => `result[index * ${k + 1} + ${i + 1}] = ${e};`),
        '}',
      ].join('\n');
      const program = { name: op.name, inputs: [{ kind: 'leaf', leaf: 0 }, { kind: 'leaf', leaf: 1 }] as const, outSize: n * (k + 1), outDtype: 'float32' as const, workgroupSize: 64, workgroups: Math.ceil(n / 64), code };
      const a = tf.tensor1d(Float32Array.from(xs.flat()));
      const b = tf.tensor1d(Float32Array.from(gs));
      const out = launchWgsl(tf, program, [a, b]);
      const got = await out.data();
      tf.dispose([a, b, out]);
      const close = (u: number, v: number, tol: number): boolean => (Number.isNaN(v) ? Number.isNaN(u) : u === v || Math.abs(u - v) <= tol * Math.max(1, Math.abs(v)));
      xs.forEach((x, t) => {
        const want = op.scalar!(...x);
        expect(close(got[t * (k + 1)]!, want, VALUE_TOL[op.name] ?? 2e-6), `${op.name}(${x.join(', ')}): got ${got[t * (k + 1)]}, want ${want}`).toBe(true);
        const ref = op.grad!(x, gs[t]!);
        ref.forEach((v, i) => expect(close(got[t * (k + 1) + i + 1]!, v, 2e-5), `${op.name}(${x.join(', ')}) partial ${i}: got ${got[t * (k + 1) + i + 1]}, want ${v}`).toBe(true));
      });
    });
  }
});
