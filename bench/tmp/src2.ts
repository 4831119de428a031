import { optimize } from '../../compiler/compile.js';
import { parseBody } from '../../compiler/codegen/body.js';
import { compileJsKernel } from '../../compiler/codegen/js-kernel.js';
import { runPipeline } from '../../compiler/passes/index.js';
import { stdlibPipeline } from '../../test/helpers/stdlib-harness.js';
const p = stdlibPipeline(process.argv[2]!);
const g = optimize(p.name, p.file, p.raw, runPipeline(new Map())).ir;
for (const n of g.ordered()) if (n.op === 'fused' && n.id === Number(process.argv[3])) { const k = compileJsKernel(parseBody(n.attrs['body']), new Map([['B', 2], ['G', 3], ['T', 4]])); console.log(k.source.forward, '\n----\n', k.source.backward); }
