import { it } from 'vitest';
import { optimize } from '../../../compiler/compile.js';
import { parseBody } from '../../../compiler/codegen/body.js';
import { compileJsKernel } from '../../../compiler/codegen/js-kernel.js';
import { compileWgslKernel } from '../../../compiler/codegen/wgsl-kernel.js';
import { lowerFusedWgsl } from '../../../compiler/codegen/wgsl-lower.js';
import { runPipeline } from '../../../compiler/passes/index.js';
import { useBackend } from '../../../runtime/backends/index.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';

it('smoke', async () => {
  const { tf } = await useBackend('webgpu');
  const p = stdlibPipeline('grpo');
  const g = optimize(p.name, p.file, p.raw, runPipeline(new Map())).ir;
  const SIZES = new Map([['B', 2], ['G', 3], ['T', 70]]);
  for (const n of g.ordered()) if (n.op === 'fused') {
    const body = parseBody(n.attrs['body']);
    const k = compileWgslKernel(body, SIZES);
    const js = compileJsKernel(body, SIZES);
    const leaves = body.leaves.map((t) => Float64Array.from({ length: t.dims.reduce((a, d) => a * SIZES.get(d)!, 1) }, () => (t.dtype === 'bool' ? (Math.random() < 0.7 ? 1 : 0) : 0.2 + 0.6 * Math.random())));
    const xs = body.leaves.map((t, l) => tf.tensor(Array.from(leaves[l]!), t.dims.map((d) => SIZES.get(d)!), t.dtype === 'bool' ? 'bool' : t.dtype === 'i32' ? 'int32' : 'float32'));
    const outShape = body.nodes[body.nodes.length - 1]!.type.dims.map((d) => SIZES.get(d)!);
    const st = js.forward(leaves);
    const { value, grads } = tf.valueAndGrads((...a: any[]) => tf.sum(lowerFusedWgsl(tf, a, k, outShape, 'float32') as any) as any)(xs.filter(() => true) as any);
    console.log(n.attrs['ops'], 'wgsl', (await value.data())[0], 'js', st.out.reduce((a, b) => a + b, 0));
    const jg = js.backward(leaves, st, new Float64Array(js.outSize).fill(1));
    for (let l = 0; l < xs.length; l++) if (jg[l]) console.log(' leaf', l, Array.from((await grads[l]!.data()).slice(0, 4)), Array.from(jg[l]!.slice(0, 4)));
  }
}, 60000);
