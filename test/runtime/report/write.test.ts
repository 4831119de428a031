/** writeReport: the run's pipeline drawn with its resolved params, or a note when its file is gone. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../../runtime/report/write.js';

function run(config: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-write-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1,"loss":0.5,"reward":0.25}\n');
  return dir;
}

describe('writeReport', () => {
  it('writes DIR/report.html with the pipeline drawn under the run\'s params', async () => {
    const dir = run({ pipeline: 'grpo', file: resolve('stdlib/grpo.rlp'), params: { beta: 0.5 }, seed: 7 });
    const out = await writeReport(dir, '9.9.9');
    expect(out).toBe(join(dir, 'report.html'));
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('id="b:advantage.A"');
    expect(html).toContain('params: beta = 0.5');
    expect(html).toContain('written by rlp 9.9.9');
    expect(html).toMatch(/TF\.js \d+\.\d+\.\d+ installed/);
    expect(html).toContain('last step 1: loss 0.5, reward 0.25');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('says why there is no graph when the pipeline file is gone', async () => {
    const dir = run({ pipeline: 'grpo', file: '/no/such/grpo.rlp', params: {} });
    const html = readFileSync(await writeReport(dir, '0', join(dir, 'r.html')), 'utf8');
    expect(html).toContain("the pipeline's file /no/such/grpo.rlp is no longer there");
  });
});
