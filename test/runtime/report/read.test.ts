/** Reading a run folder: config, metrics and samples; resumed steps keep their last lines; user errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastOfEachStep, readRun, ReportError } from '../../../runtime/report/read.js';

const runDir = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-read-'));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
};

describe('readRun', () => {
  it('reads config, metrics and samples, samples being optional', () => {
    const dir = runDir({ 'config.json': '{"pipeline":"grpo","seed":3}', 'metrics.jsonl': '{"step":1,"loss":2}\n{"step":2,"loss":1}\n' });
    const r = readRun(dir);
    expect(r.config).toEqual({ pipeline: 'grpo', seed: 3 });
    expect(r.metrics.map((m) => m['loss'])).toEqual([2, 1]);
    expect(r.samples).toEqual([]);
  });

  it('refuses a folder without config.json and names a bad line', () => {
    expect(() => readRun(runDir({}))).toThrow(ReportError);
    expect(() => readRun(runDir({ 'config.json': '{}', 'metrics.jsonl': '{"step":1}\nnot json\n' }))).toThrow(/metrics\.jsonl:2: not a JSON object/);
  });
});

describe('lastOfEachStep', () => {
  it('keeps the lines of each step\'s last run, in step order', () => {
    // Steps 1-3, then a resume from step 1 redoes steps 2 and 3.
    const rows = [{ step: 1, v: 'a' }, { step: 1, v: 'b' }, { step: 2, v: 'c' }, { step: 3, v: 'd' }, { step: 2, v: 'e' }, { step: 2, v: 'f' }, { step: 3, v: 'g' }];
    expect(lastOfEachStep(rows).map((r) => r.v)).toEqual(['a', 'b', 'e', 'f', 'g']);
  });
});
