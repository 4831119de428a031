/** JSONL datasets: validated up front with the file and line of every problem; rows read as a stream. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRows, validateDataset } from '../../../runtime/data/jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-data-'));
function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('JSONL datasets', () => {
  it('validates prompt datasets and lists the columns every row has', async () => {
    const f = file('ok.jsonl', '{"prompt": "1+1=", "answer": "2"}\n\n{"prompt": "2+2=", "answer": "4", "extra": 1}\n');
    expect(await validateDataset(f, ['answer'])).toEqual({ file: f, kind: 'prompt', rows: 2, columns: ['answer', 'prompt'], partial: { extra: 1 } });
  });

  it('names the first row without a column that only some rows have', async () => {
    const f = file('partial.jsonl', '\n{"prompt": "a", "x": 1}\n{"prompt": "b", "x": 2, "y": 0}\n{"prompt": "c"}\n{"prompt": "d"}\n');
    const info = await validateDataset(f);
    expect(info.columns).toEqual(['prompt']);
    // x is lacking first at line 4; y first appears at line 3, so the first row (line 2) lacks it.
    expect(info.partial).toEqual({ x: 4, y: 2 });
  });

  it('recognizes preference datasets', async () => {
    const f = file('pref.jsonl', '{"prompt": "q", "chosen": "a", "rejected": "b"}\n');
    expect((await validateDataset(f)).kind).toBe('preference');
  });

  it.each([
    ['malformed.jsonl', '{"prompt": "a"}\n{"prompt": "b",}\n', /malformed\.jsonl:2: not valid JSON/],
    ['noprompt.jsonl', '{"prompt": "a"}\n{"question": "b"}\n', /noprompt\.jsonl:2: missing the `prompt` column/],
    ['column.jsonl', '{"prompt": "a", "answer": "1"}\n{"prompt": "b"}\n', /column\.jsonl:2: missing the `answer` column, which the run needs/],
    ['array.jsonl', '[1, 2]\n', /array\.jsonl:1: each line must be a JSON object/],
    ['mixed.jsonl', '{"prompt": "a"}\n{"prompt": "b", "chosen": "x", "rejected": "y"}\n', /mixed\.jsonl:2: this row is a preference row/],
    ['pref.jsonl', '{"prompt": "a", "chosen": "x"}\n', /pref\.jsonl:1: a preference row needs a string `rejected`/],
    ['empty.jsonl', '', /empty\.jsonl: the file is empty/],
    ['blank.jsonl', '\n\n', /blank\.jsonl: the file holds no rows/],
  ])('names the file and line: %s', async (name, text, message) => {
    await expect(validateDataset(file(name, text), ['answer'].filter(() => name === 'column.jsonl'))).rejects.toThrow(message);
  });

  it('reports a missing file', async () => {
    await expect(validateDataset(join(dir, 'none.jsonl'))).rejects.toThrow(/none\.jsonl: no such file/);
  });

  it('streams rows from a cursor and cycles', async () => {
    const f = file('three.jsonl', ['a', 'b', 'c'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
    const got: string[] = [];
    for await (const row of readRows(f, 1)) {
      got.push(row.prompt);
      if (got.length === 5) break;
    }
    expect(got).toEqual(['b', 'c', 'a', 'b', 'c']);
  });
});
