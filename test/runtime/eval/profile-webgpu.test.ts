/**
 * On webgpu the fused regions run as generated WGSL programs (kernel `RlpFusedWgsl`), not op by
 * op: a count check on the profile of grpo's and dpo's loss and gradient (not a timing). Every
 * fused plan step that is not a host step launches generated programs and otherwise only moves data (reshape, slice,
 * cast, the concat that packs many leaves into one buffer); the whole profile has fewer kernels
 * than `-O0`; grpo's (fused end to end) has no [B,G,T]-sized elementwise TF.js kernel. Skipped
 * without an adapter unless RLP_REQUIRE_WEBGPU=1.
 */
import { describe, expect, it } from 'vitest';
import { WGSL_KERNEL_NAME } from '../../../compiler/codegen/wgsl-lower.js';
import { makeSource, span } from '../../../grammar/source.js';
import { useBackend, webgpuAvailable } from '../../../runtime/backends/index.js';
import { profileEval } from '../../../runtime/eval/profile.js';
import { HOST_STEPS_KERNEL } from '../../../runtime/exec/host-steps.js';
import { specializeBatch } from '../../../runtime/eval/specialize.js';
import { validateBatch } from '../../../runtime/eval/validate.js';
import { PREFERENCE } from '../../helpers/references.js';
import { entriesFor, makeBatch, stdlibPipeline } from '../../helpers/stdlib-harness.js';

const available = (await webgpuAvailable()) || process.env['RLP_REQUIRE_WEBGPU'] === '1';
const here = span(makeSource('batch', ''), 0, 0);
const SIZES = { B: 3, G: 4, T: 7 };

async function profileOf(name: string, optimized: boolean) {
  const p = stdlibPipeline(name);
  const b = makeBatch(name in PREFERENCE ? { ...SIZES, G: 2, seed: 3 } : { ...SIZES, seed: 3, reward: (r) => r() });
  const v = validateBatch(p.ir, entriesFor(p, b), { set: name in PREFERENCE ? {} : { group: String(SIZES.G) }, grad: ['logp'], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => d.message).join('; '));
  const { tf } = await useBackend('webgpu');
  return { prof: await profileEval(tf, 'webgpu', specializeBatch(p, v.valid, optimized), ['logp']), bgt: b.B * b.G * b.T };
}

describe.runIf(available)('the webgpu profile of a fused loss', () => {
  for (const name of ['grpo', 'dpo']) {
    it(`${name}: generated programs replace the op-by-op kernels`, async () => {
      const { prof, bgt } = await profileOf(name, true);
      const base = await profileOf(name, false);
      // A small gradient-free fused step reading only fed values runs on the host (one `HostSteps`
      // kernel, runtime/exec/host-steps.ts); every other fused step runs generated programs.
      const hosted = (step: string): boolean => prof.kernels.filter((k) => k.step === step).every((k) => k.kernel === HOST_STEPS_KERNEL);
      const fusedSteps = [...new Set(prof.kernels.map((k) => k.step).filter((s) => / fused$/.test(s)))].filter((s) => !hosted(s));
      expect(fusedSteps.length).toBeGreaterThan(0);
      for (const step of fusedSteps) {
        const ks = prof.kernels.filter((k) => k.step === step).map((k) => k.kernel);
        expect(ks, step).toContain(WGSL_KERNEL_NAME);
        // `forward`: the tf.customGrad wrapper itself (TF.js records it under its scope's name).
        expect(ks.filter((k) => ![WGSL_KERNEL_NAME, 'forward', 'Reshape', 'Slice', 'Cast', 'Concat', 'Identity'].includes(k)), step).toEqual([]);
      }
      expect(base.prof.kernels.some((k) => k.kernel === WGSL_KERNEL_NAME)).toBe(false);
      expect(prof.kernels.length).toBeLessThan(base.prof.kernels.length);
      if (name === 'grpo') {
        const elementwise = ['Exp', 'Multiply', 'Sub', 'Add', 'Minimum', 'Maximum', 'Tile', 'Select', 'Neg', 'RealDiv', 'Log', 'ClipByValue', 'Softplus', 'Sigmoid'];
        const big = (ks: typeof prof.kernels) => ks.filter((k) => elementwise.includes(k.kernel) && k.outputShapes.some((s) => s.reduce((a, d) => a * d, 1) >= bgt));
        expect(big(base.prof.kernels).length).toBeGreaterThan(0);
        expect(big(prof.kernels).map((k) => `${k.kernel} ${k.step}`)).toEqual([]);
      }
    }, 120_000);
  }
});
