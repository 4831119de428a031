/** `rlp export --target torch`: the bundled CLI writes Python that compiles, runs, and never loads TF.js. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectGolden } from '../helpers/golden.js';
import { PYTHON, pyCompile, torchTestsRun } from '../helpers/torch.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-export-'));

function rlp(args: string[], node: string[] = []) {
  const r = spawnSync(process.execPath, [...node, 'runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Node flags installing module hooks that make loading any TF.js package fail (ES import or CommonJS require). */
function noTfjs(): string[] {
  const hook = join(dir, 'no-tfjs-hook.mjs');
  writeFileSync(hook, 'export async function resolve(s, c, n) { if (s.startsWith("@tensorflow/")) throw new Error("TF.js was loaded: " + s); return n(s, c); }\n');
  const reg = join(dir, 'no-tfjs.mjs');
  writeFileSync(
    reg,
    `import Module, { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n` +
      'const r = Module._resolveFilename;\nModule._resolveFilename = function (s, ...a) { if (s.startsWith("@tensorflow/")) throw new Error("TF.js was loaded: " + s); return r.call(this, s, ...a); };\n',
  );
  return ['--import', pathToFileURL(reg).href];
}

describe('rlp export --target torch', () => {
  it('writes grpo as the golden module, which py_compiles', () => {
    const out = join(dir, 'grpo.py');
    const r = rlp(['export', 'grpo', '--target', 'torch', '-o', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const code = readFileSync(out, 'utf8');
    expectGolden('test/golden/grpo.torch.py', code);
    expect(pyCompile(out)).toBeNull();
  });

  it('prints the module without -o, and never loads TF.js', () => {
    const r = rlp(['export', 'grpo', '--target', 'torch', '--for', 'verl'], noTfjs());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^@register_policy_loss\("rlp_grpo"\)$/m);
    // The hook works: a command that computes does load TF.js, and fails under it.
    const control = rlp(['env'], noTfjs());
    expect(control.out + control.err).toMatch(/TF\.js was loaded: @tensorflow\/tfjs/);
  });

  for (const trainer of ['verl', 'trl'] as const) {
    it.runIf(torchTestsRun())(`for ${trainer}: compiles, imports and runs its plain functions without ${trainer} installed`, () => {
      const out = join(dir, `grpo_${trainer}.py`);
      expect(rlp(['export', 'grpo', '--target', 'torch', '--for', trainer, '-o', out]).code).toBe(0);
      expect(pyCompile(out)).toBeNull();
      const script = [
        'import importlib.util, sys, torch',
        `spec = importlib.util.spec_from_file_location("m", ${JSON.stringify(out)})`,
        'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
        `assert "${trainer}" not in sys.modules`,
        'r = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])',
        'A, _ = m.compute_advantage(reward=r)',
        'lp = torch.full((2, 3, 4), -1.0, requires_grad=True)',
        'loss, metrics = m.compute_loss(logp=lp, old_logp=lp.detach(), ref_logp=lp.detach(), mask=torch.ones(2, 3, 4), advantages=A)',
        'loss.backward()',
        'print(round(float(A[0, 0]), 6), round(float(loss), 6), sorted(metrics))',
      ].join('\n');
      const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      // r = [1, 0, 1]: mean 2/3, unbiased std 1/sqrt(3); ratio 1 and k3 0, so the loss is -mean A = 0.
      expect(r.stdout.trim()).toBe(`${(1 / 3 / (Math.sqrt(1 / 3) + 1e-6)).toFixed(6)} 0.0 ['loss.kl', 'loss.per_token', 'loss.ratio', 'loss.seqs', 'loss.surrogate', 'loss.tokens']`);
    });
  }

  it('for trl, a class whose _compute_loss calls the pipeline loss', () => {
    const r = rlp(['export', 'grpo', '--target', 'torch', '--for', 'trl']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^class RlpGrpoTrainer\(_GRPOTrainer if _GRPOTrainer is not None else object\):$/m);
    expect(r.out).toMatch(/def _compute_loss\(self, model, inputs\):[\s\S]*loss, metrics = compute_loss\(/);
  });

  it('warns that sampling features needing rlp\'s generator are not exported, and exports the rest', () => {
    const r = rlp(['export', 'spo', '--target', 'torch', '-o', join(dir, 'spo.py')]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning\[RLP5012\]: the sample stage of `spo` is not exported: continuations from segment cuts/);
  });

  it('exports a pipeline with state: the state is an argument, the update its own function', () => {
    const r = rlp(['export', 'pipelines/running_baseline.rlp', '--target', 'torch']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^def compute_update\(\n    \*,\n    reward,\n    baseline,\n    momentum=0\.9,\n\):$/m);
  });

  it('exports the chosen branch of a choice param, names the choice in the header, and --set picks another', () => {
    const dflt = rlp(['export', 'grpo', '--target', 'torch']);
    expect(dflt.code).toBe(0);
    expect(dflt.out).toContain('  agg = "seq-mean-token-mean"  (of "token-mean", "token-sum",');
    expect(dflt.out).toMatch(/^    loss = t\d+ \/ seqs {2}#/m);
    const sum = rlp(['export', 'grpo', '--target', 'torch', '--set', 'agg=token-sum']);
    expect(sum.err).toBe('');
    expect(sum.code).toBe(0);
    expect(sum.out).toContain('  agg = "token-sum"  (of ');
    expect(sum.out).toMatch(/^    loss = _sum\(per_token, \(0, 1, 2\), mask\) {2}#/m);
    expect(sum.out).not.toMatch(/^    agg=/m);
  });

  it('refuses --set of a runtime param (a keyword argument of the functions) with exit 2', () => {
    const r = rlp(['export', 'grpo', '--target', 'torch', '--set', 'beta=1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/`beta` is a runtime param: pass it as a keyword argument/);
  });

  it('refuses bad flags with exit 2', () => {
    expect(rlp(['export', 'grpo']).code).toBe(2);
    expect(rlp(['export', 'grpo', '--target', 'jax']).code).toBe(2);
    expect(rlp(['export', 'grpo', '--target', 'torch', '--for', 'openrlhf']).code).toBe(2);
    const r = rlp(['export', 'grpo', '--target', 'torch', '-o', join(dir, 'grpo.txt')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/-o takes a \.py file/);
  });
});
