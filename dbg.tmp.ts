import { optimize } from './compiler/compile.js';
import { runPipeline } from './compiler/passes/index.js';
import { makeSource, span } from './grammar/source.js';
import { useBackend } from './runtime/backends/index.js';
import { buildPlan } from './runtime/exec/plan.js';
import { evaluate } from './runtime/eval/evaluate.js';
import { validateBatch } from './runtime/eval/validate.js';
import { interpretOutputs } from './runtime/reference/interpreter.js';
import { named } from './runtime/reference/named-array.js';
import { pipelineBatch } from './test/helpers/pipeline-batch.js';
import { stdlibPipeline } from './test/helpers/stdlib-harness.js';
const here = span(makeSource('batch', ''), 0, 0);
const [name, seedS, key, idxS] = process.argv.slice(2);
const seed = Number(seedS);
const p = stdlibPipeline(name!);
const b = pipelineBatch(p, { seed, reward: (r) => r() });
const v = validateBatch(p.raw, b.entries, { set: b.set, grad: ['logp'], allowNonfinite: false, fileSpan: here });
const { tf } = await useBackend('cpu');
const base = await evaluate(tf, 'cpu', v.valid!, ['logp']);
const g = optimize(p.name, p.file, p.raw, runPipeline(v.valid!.params)).ir;
const want = g.outputs.filter((o) => g.node(o.node).type.kind === 'tensor').map((o) => o.name);
const out = await evaluate(tf, 'cpu', { ...v.valid!, plan: buildPlan(g, v.valid!.entries.map((e) => e.name), want) }, ['logp']);
const inputs: Record<string, any> = {};
for (const e of b.entries) {
  const n = p.raw.ordered().find((n) => (n.op === 'input' && n.attrs['name'] === e.name) || (n.op === 'reward_fn' && `reward_fn.${n.attrs['name']}` === e.name))!;
  inputs[e.name] = named((n.type as any).dims, e.tensor.shape, e.tensor.data);
}
const params = Object.fromEntries(v.valid!.params);
const ref = (inp: Record<string, any>) => interpretOutputs(p.raw, { inputs: inp, params });
const r64 = ref(inputs);
const k = key ?? 'loss';
const i = Number(idxS ?? 0);
if (k === 'grad.logp') {
  const lp = inputs['logp'];
  const h = 1e-6;
  const up = Float64Array.from(lp.data); up[i] += h;
  const dn = Float64Array.from(lp.data); dn[i] -= h;
  const fd = (ref({ ...inputs, logp: named(lp.dims, lp.shape, up) })['loss']!.data[0]! - ref({ ...inputs, logp: named(lp.dims, lp.shape, dn) })['loss']!.data[0]!) / (2 * h);
  console.log('O0', base[k]!.data[i], 'fused', out[k]!.data[i], 'f64 fd', fd);
} else {
  console.log('O0', base[k]!.data[i], 'fused', out[k]!.data[i], 'f64', r64[k === 'advantage' ? 'advantage.A' : k]?.data[i]);
}
