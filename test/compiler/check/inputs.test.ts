/**
 * Declared inputs: `inputs { tool_calls: f32[B,G] "doc" }` in a pipeline. Typed with named dims
 * (declared `dim`s included), inherited through `extends` and overridable by name, fed like the
 * standard inputs by `rlp eval`, listed with their doc by `rlp explain`, `input` nodes in the IR.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { printIr } from '../../../compiler/ir/print.js';
import { formatType } from '../../../compiler/types.js';

const SOURCE = `dim K "reward models"

/// Penalize tool calls.
pipeline tools {
  params { gamma: float = 0.5 "weight of the tool-call penalty" }
  inputs {
    tool_calls: f32[B,G] "number of tool calls of each completion"
  }
  advantage { A = reward - gamma * tool_calls }
  loss { minimize -mean(mean(logp, over T, where mask) * A, over [B, G]) }
}

pipeline ensemble extends tools {
  inputs {
    rewards: f32[B,G,K] "one reward per reward model"
  }
  advantage { A = mean(rewards, over K) - gamma * tool_calls }
}

pipeline counts extends tools {
  inputs {
    tool_calls: i32[B,G] "tool calls, as integers"
  }
}
`;

function write(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-inputs-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function rlp(args: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const file = write('tools.rlp', SOURCE);
const compiled = compileFiles([file]);
const byName = (n: string) => compiled.pipelines.find((p) => p.name === n)!;

describe('an inputs block', () => {
  it('compiles without diagnostics', () => {
    expect(compiled.diagnostics.map((d) => d.message)).toEqual([]);
    expect(compiled.pipelines.map((p) => p.name).sort()).toEqual(['counts', 'ensemble', 'tools']);
  });

  it('becomes an input node of its declared type in the IR', () => {
    expect(printIr(byName('tools').ir)).toMatch(/= input\[name="tool_calls"\] : f32\[B,G\]/);
  });

  it('travels with the graph with its doc', () => {
    expect(byName('tools').ir.meta.inputs?.map((i) => [i.name, formatType(i.type), i.doc])).toEqual([['tool_calls', 'f32[B,G]', 'number of tool calls of each completion']]);
  });

  it('is inherited through extends, and a child adds its own with a declared dim', () => {
    const names = byName('ensemble').ir.meta.inputs?.map((i) => `${i.name}: ${formatType(i.type)}`);
    expect(names).toEqual(['tool_calls: f32[B,G]', 'rewards: f32[B,G,K]']);
    expect(printIr(byName('ensemble').ir)).toMatch(/input\[name="rewards"\] : f32\[B,G,K\]/);
  });

  it('is overridden by name in a child, with the new type', () => {
    expect(byName('counts').ir.meta.inputs?.map((i) => formatType(i.type))).toEqual(['i32[B,G]']);
    expect(printIr(byName('counts').ir)).toMatch(/input\[name="tool_calls"\] : i32\[B,G\]/);
  });

  it('warns when a declared input is never read', () => {
    const f = write('u.rlp', 'pipeline p {\n  inputs { calls: f32[B,G] "calls" }\n  loss { minimize mean(reward, over [B, G]) }\n}\n');
    const r = compileFiles([f]);
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.message}`)).toEqual(['warning RLP4032 input `calls` is declared but never read']);
  });
});

describe('declared inputs on the command line', () => {
  const B = 2;
  const G = 2;
  const T = 3;
  const batch = {
    logp: { shape: [B, G, T], data: [-1, -2, -3, -0.5, -1, 0, -2, -2, -2, -1, -1, -1] },
    mask: { shape: [B, G, T], data: [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0] },
    reward: { shape: [B, G], data: [1, 0, 1, 1] },
    tool_calls: { shape: [B, G], data: [2, 0, 1, 3] },
  };
  const batchFile = write('b.json', JSON.stringify(batch));

  it('rlp eval feeds them like standard inputs', () => {
    const r = rlp(['eval', file, '--pipeline', 'tools', '--batch', batchFile]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as Record<string, { data: number[] }>;
    // A = reward - 0.5 * tool_calls
    expect(out['advantage']!.data).toEqual([0, 0, 0.5, -0.5]);
    // seq means of logp: -2, -0.75, -2, -1
    const want = -((-2 * 0) + (-0.75 * 0) + (-2 * 0.5) + (-1 * -0.5)) / 4;
    expect(Math.abs(out['loss']!.data[0]! - want)).toBeLessThan(1e-6);
  });

  it('rlp eval reports a missing declared input with its type and doc', () => {
    const { tool_calls: _, ...rest } = batch;
    const r = rlp(['eval', file, '--pipeline', 'tools', '--batch', write('m.json', JSON.stringify(rest))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing input `tool_calls`');
    expect(r.err).toContain('(`f32[B,G]`: number of tool calls of each completion)');
  });

  it('rlp eval checks a declared dim against the batch', () => {
    const r = rlp(['eval', file, '--pipeline', 'ensemble', '--batch', write('k.json', JSON.stringify({ ...batch, rewards: { shape: [B, 3, 2], data: Array(12).fill(0) } }))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('dimension `G` of `rewards` is 3');
    expect(r.err).toContain('`rewards` is an input declared by `ensemble`, declared `f32[B,G,K]`');
  });

  it('rlp explain lists them with their doc', () => {
    const r = rlp(['explain', file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('declared inputs');
    expect(r.out).toMatch(/tool_calls: f32\[B,G\]\s+number of tool calls of each completion/);
  });

  it('rlp run refuses a pipeline that reads one, with a clear message', () => {
    const r = rlp(['run', file, '--pipeline', 'tools', '--steps', '1', '--dry-run', '--out', mkdtempSync(join(tmpdir(), 'rlp-run-'))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("`tools` reads the declared input `tool_calls`, which rlp run's sampler does not produce");
  });
});
