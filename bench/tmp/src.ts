import { compileFiles } from '../../compiler/compile.js';
import { makeSource, span } from '../../grammar/source.js';
import { parseBody } from '../../compiler/codegen/body.js';
import { compileJsKernel } from '../../compiler/codegen/js-kernel.js';
import { specializeBatch } from '../../runtime/eval/specialize.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import { lossBatch, b1Shape } from '../fusion.js';
const pipeline = process.argv[2]!;
const p = compileFiles([`stdlib/${pipeline}.rlp`]).pipelines.find((x) => x.name === pipeline)!;
const [B, G, T] = b1Shape(pipeline);
const reads = new Set(p.raw.ordered().filter((n) => n.op === 'input' || n.op === 'reward_fn').map((n) => (n.op === 'input' ? String(n.attrs['name']) : 'reward')));
const entries = lossBatch(B, G, T).filter((e) => reads.has(e.name));
const v = validateBatch(p.raw, entries, { set: pipeline === 'dpo' ? {} : { group: String(G) }, grad: ['logp'], allowNonfinite: false, fileSpan: span(makeSource('bench', ''), 0, 0) });
const vb = specializeBatch(p, v.valid!, true);
for (const s of vb.plan.steps) if (s.node.op === 'fused') {
  const body = parseBody(s.node.attrs['body']);
  console.log('==== fused', s.node.id, JSON.stringify(body.nodes.map(n=>n.op)));
  const k = compileJsKernel(body, vb.sizes as any);
  console.log(k.source.forward); console.log('--- bwd'); console.log(k.source.backward);
}
