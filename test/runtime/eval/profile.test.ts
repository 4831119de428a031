/**
 * `rlp eval --profile`'s data: kernels attributed to plan steps or the backward pass, with bytes
 * written. Also the count check of the acceptance: no stdlib loss launches a Tile the size of a
 * [B,G,T] tensor (scalars and coarse values are broadcast inside kernels, never materialized),
 * except a Tile that is itself a batch-level binding's value (materialized by design).
 */
import { describe, expect, it } from 'vitest';
import { makeSource, span } from '../../../grammar/source.js';
import { useBackend } from '../../../runtime/backends/index.js';
import { FUSED_BACKWARD } from '../../../compiler/codegen/body.js';
import { policyDependent } from '../../../compiler/passes/fuse.js';
import { formatProfile, profileEval } from '../../../runtime/eval/profile.js';
import { validateBatch } from '../../../runtime/eval/validate.js';
import { specializeBatch } from '../../../runtime/eval/specialize.js';
import { stdlibPipelines } from '../../../runtime/cli/resolve-target.js';
import { pipelineBatch, policyLogp, takesAlongG } from '../../helpers/pipeline-batch.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';

const here = span(makeSource('batch', ''), 0, 0);
// Sizes whose products are all distinct, so an output shape's size says which dims it spans.
const SIZES = { B: 3, G: 4, T: 7 };

async function profileOf(name: string, optimized = true) {
  const p = stdlibPipeline(name);
  // Pairs (a pipeline taking samples along G) keep their G; every other size as in SIZES.
  const b = pipelineBatch(p, { ...SIZES, ...(takesAlongG(p) >= 0 ? { G: 2 } : {}), seed: 3, reward: (r) => r() });
  const wrt = policyLogp(p);
  const v = validateBatch(p.ir, b.entries, { set: b.set, grad: [wrt], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => d.message).join('; '));
  const { tf } = await useBackend('cpu');
  const vb = specializeBatch(p, v.valid, optimized);
  // Bindings that do not depend on the policy are fusion barriers by design (compiler/passes/fuse.ts:
  // a trainer computes them once per batch and feeds them to every micro-batch), so each is
  // materialized as the value it names: `%ID op` of each.
  const g = vb.plan.graph;
  const policy = policyDependent(g);
  const named = new Set(g.outputs.filter((o) => o.name !== 'loss' && !policy.has(o.node)).map((o) => `%${o.node} ${g.node(o.node).op}`));
  return { prof: await profileEval(tf, 'cpu', vb, [wrt]), bgt: b.ref.B * b.ref.G * b.ref.T, named };
}

describe('profileEval', () => {
  it('attributes forward kernels to plan steps with their source line, and the rest to the backward pass', async () => {
    const { prof, bgt } = await profileOf('grpo', false);
    expect(prof.kernels.some((k) => k.step === 'backward')).toBe(true);
    // Optimized, the fused loss's gradient is one generated kernel, attributed to the backward pass.
    const fused = (await profileOf('grpo')).prof;
    expect(fused.kernels.filter((k) => k.kernel === FUSED_BACKWARD).map((k) => k.step)).toEqual(['backward']);
    const exp = prof.kernels.find((k) => k.kernel === 'Exp' && k.step.endsWith(' exp'));
    expect(exp?.at).toMatch(/\.rlp:\d+$/);
    expect(exp?.bytes).toBe(4 * bgt);
    expect(prof.totalBytes).toBe(prof.kernels.reduce((a, k) => a + k.bytes, 0));
    for (let i = 1; i < prof.kernels.length; i++) expect(prof.kernels[i - 1]!.ms).toBeGreaterThanOrEqual(prof.kernels[i]!.ms);
  });

  it('formats a table, slowest first, with a total line', async () => {
    const { prof } = await profileOf('grpo');
    const text = formatProfile(prof, 5);
    expect(text.split('\n')[0]).toMatch(/^\s*ms\s+bytes\s+kernel\s+step\s+output\s+source$/);
    expect(text).toMatch(/\.\.\. \d+ more kernels/);
    expect(text).toMatch(new RegExp(`total: ${prof.kernels.length} kernels, [0-9.]+ ms, ${prof.totalBytes} bytes written`));
    const back = prof.kernels.filter((k) => k.step === 'backward');
    expect(text).toMatch(new RegExp(`\\nbackward: ${back.length} kernels, [0-9.]+ ms, ${back.reduce((a, k) => a + k.bytes, 0)} bytes written\\n$`));
  });

  for (const name of [...stdlibPipelines().keys()]) {
    it(`${name}: no Tile writes a [B,G,T]-sized tensor in the loss and its gradient`, async () => {
      const { prof, bgt, named } = await profileOf(name);
      // A Tile that IS a batch-level binding (brpo's `ones_t = expand(ones, over T)`, [B,G,T,U]) is
      // that binding's value, materialized by design; any other one broadcasts a value a kernel
      // should have indexed.
      const big = prof.kernels.filter((k) => k.kernel === 'Tile' && !named.has(k.step) && k.outputShapes.some((s) => s.reduce((a, d) => a * d, 1) >= bgt));
      expect(big.map((k) => `${k.step} ${k.at}`)).toEqual([]);
    });
  }
});
