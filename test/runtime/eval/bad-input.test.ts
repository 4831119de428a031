/** Every kind of bad input to `rlp eval` gets a clear message and a non-zero exit, never a stack trace. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'rlp-bad-'));
const B = 1;
const G = 2;
const T = 3;
const tok = (v = -1) => ({ shape: [B, G, T], data: Array(B * G * T).fill(v) });
const good = { logp: tok(), old_logp: tok(), ref_logp: tok(), mask: tok(1), reward: { shape: [B, G], data: [1, 0] } };

function file(name: string, content: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

function rlp(args: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const evalJson = (batch: unknown, ...extra: string[]) => rlp(['eval', 'grpo', '--batch', file(`b${Math.random()}.json`, JSON.stringify(batch)), '--backend', 'cpu', ...extra]);

describe('rlp eval on bad input', () => {
  it('accepts the good batch these cases break', () => {
    expect(evalJson(good).code).toBe(0);
  });

  it('names a missing input and how to feed it', () => {
    const { mask: _, ...rest } = good;
    const r = evalJson(rest);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6001]: missing input `mask`');
    expect(r.err).toContain('help: add `"mask": {"shape": [...], "data": [...]}` (`f32[B,G,T]`: 1 on completion tokens, 0 on padding)');
  });

  it('says a reward function cannot run in eval and what to feed instead', () => {
    const { reward: _, ...rest } = good;
    const r = evalJson(rest);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6001]: missing input `reward_fn.correct`');
    expect(r.err).toContain("help: feed the function's output as `reward_fn.correct` (or `correct`, `f32[B,G]`), or the reward stage's result: `reward`");
  });

  it('says which dimension disagrees and where the input was declared', () => {
    const r = evalJson({ ...good, mask: { shape: [1, 2, 4], data: Array(8).fill(1) } });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6002]: dimension `T` of `mask` is 4, but `logp` gave it size 3');
    expect(r.err).toContain('note: `mask` is a standard input, declared `f32[B,G,T]`');
  });

  it('reports a tensor with the wrong number of axes', () => {
    const r = evalJson({ ...good, logp: { shape: [2, 3], data: Array(6).fill(-1) } });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6002]: `logp` has shape [2,3] (2 axes), but it has 3 dims: `f32[B,G,T]`');
  });

  it('reports data whose length does not match the shape, pointing at the entry', () => {
    const r = evalJson({ ...good, logp: { shape: [1, 2, 3], data: [1, 2] } });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6003]: `logp` has 2 values, but its shape [1,2,3] needs 6');
    expect(r.err).toMatch(/--> .*\.json:1:2/);
  });

  it('reports non-numeric values', () => {
    const r = evalJson({ ...good, reward: { shape: [1, 2], data: [1, 'high'] } });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6004]: `reward`: data[1] is `"high"`, not a number');
  });

  it('refuses NaN and infinities unless --allow-nonfinite', () => {
    const f = file('inf.json', JSON.stringify(good).replace('"data":[1,0]', '"data":[1,1e999]'));
    const r = rlp(['eval', 'grpo', '--batch', f, '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6005]: `reward` holds +Infinity at index 1');
    expect(r.err).toContain('help: pass --allow-nonfinite to feed it anyway');
    expect(rlp(['eval', 'grpo', '--batch', f, '--backend', 'cpu', '--allow-nonfinite']).code).toBe(0);
    const nan = file('nan.msgpack', pack({ ...good, logp: { shape: [1, 2, 3], data: [NaN, 0, 0, 0, 0, 0] } }));
    expect(rlp(['eval', 'grpo', '--batch', nan, '--backend', 'cpu']).err).toContain('error[RLP6005]: `logp` holds NaN at index 0');
  });

  it('suggests the param an unknown --set key meant', () => {
    const r = evalJson(good, '--set', 'bta=0.1');
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6006]: `bta` is not a param of `grpo`');
    expect(r.err).toContain('help: did you mean `beta`?');
  });

  it('checks --set values against the param type', () => {
    const r = evalJson(good, '--set', 'group=1.5');
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6011]: param `group` is `int`, but `1.5` is not an integer');
    expect(evalJson(good, '--set', 'beta').code).toBe(2);
  });

  it('reports truncated and corrupt msgpack', () => {
    const whole = pack(good);
    const cut = rlp(['eval', 'grpo', '--batch', file('cut.msgpack', whole.subarray(0, whole.length - 5)), '--backend', 'cpu']);
    expect(cut.code).toBe(1);
    expect(cut.err).toContain('error[RLP6007]: cannot decode');
    expect(cut.err).toContain('Unexpected end of MessagePack data');
    const junk = rlp(['eval', 'grpo', '--batch', file('junk.msgpack', Buffer.from([0xc1, 0xff, 0x00, 0x13])), '--backend', 'cpu']);
    expect(junk.code).toBe(1);
    expect(junk.err).toMatch(/error\[RLP600[79]\]/);
  });

  it('reports empty files', () => {
    for (const name of ['empty.json', 'empty.msgpack', 'blank.json']) {
      const r = rlp(['eval', 'grpo', '--batch', file(name, name === 'blank.json' ? '  \n' : ''), '--backend', 'cpu']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`error[RLP6008]: \``);
      expect(r.err).toContain('is empty');
    }
  });

  it('reports malformed JSON with its position', () => {
    const r = rlp(['eval', 'grpo', '--batch', file('bad.json', '{"logp": {"shape": [1, 2, 3], "data": [1, 2,]}}'), '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6009]: invalid JSON: value expected');
    expect(r.err).toMatch(/bad\.json:1:45/);
  });

  it('reports a batch that is not an object, and an entry that is not a tensor', () => {
    expect(evalJson([1, 2]).err).toContain('error[RLP6009]: the batch must be an object mapping input names to tensors');
    expect(evalJson({ ...good, mask: 'all' }).err).toContain('error[RLP6009]: `mask` must be a number or a tensor');
  });

  it('suggests the input an unknown name meant', () => {
    const r = evalJson({ ...good, ref_lopg: tok() });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6010]: `ref_lopg` is not an input or a binding of `grpo`');
    expect(r.err).toContain('help: did you mean `ref_logp`?');
  });

  it('refuses a gradient target that is not fed or not an input', () => {
    expect(evalJson(good, '--grad', 'values').err).toContain('error[RLP6012]: cannot take the gradient with respect to `values`');
    expect(evalJson(good, '--grad', 'logpp').err).toContain('help: did you mean `logp`?');
  });

  it('points a failing step at its source (dpo indexes G=1, so G must be at least 2)', () => {
    const one = { logp: { shape: [1, 1, 3], data: [-1, -1, -1] }, ref_logp: { shape: [1, 1, 3], data: [-1, -1, -1] }, mask: { shape: [1, 1, 3], data: [1, 1, 1] } };
    const r = rlp(['eval', 'dpo', '--batch', file('dpo.json', JSON.stringify(one)), '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6020]: computing this failed: index 1 is out of range: dimension `G` has size 1');
    expect(r.err).toMatch(/--> .*stdlib\/dpo\.rlp:\d+:\d+/);
    expect(r.err).toContain('logratio[G=1]');
  });

  it('says how to get the tensorflow backend instead of crashing', () => {
    const r = evalJson(good).code === 0 ? rlp(['eval', 'grpo', '--batch', file('t.json', JSON.stringify(good)), '--backend', 'tensorflow']) : null;
    expect(r!.code).toBe(1);
    expect(r!.err).toContain('error[RLP5001]: the `tensorflow` backend cannot run here');
    expect(r!.err).toContain('npm install @tensorflow/tfjs-node');
  });

  it('treats bad flags as usage errors (exit 2)', () => {
    const f = file('u.json', JSON.stringify(good));
    expect(rlp(['eval', 'grpo']).code).toBe(2);
    expect(rlp(['eval', 'grpo', '--batch', file('b.txt', '{}')]).code).toBe(2);
    expect(rlp(['eval', 'grpo', '--batch', join(dir, 'none.json')]).code).toBe(2);
    expect(rlp(['eval', 'grpo', '--batch', f, '-o', join(dir, 'o.csv')]).code).toBe(2);
    expect(rlp(['eval', 'grpo', '--batch', f, '--backend', 'tpu']).code).toBe(2);
  });
});

describe('rlp eval: inputs that were silently wrong or reported as our bug', () => {
  it.each([[-1], [0.5]])('refuses a mask value of %s (it would weigh the token and flip the gradient)', (v) => {
    const mask = tok(1);
    mask.data[2] = v;
    const r = evalJson({ ...good, mask });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`\`mask\` is a mask: every value must be 0 or 1, but data[2] = ${v}`);
  });

  it('refuses an empty batch (B = 0) and a dimension too large to allocate (B = 1e9 with no data)', () => {
    const empty = { logp: { shape: [0, 2, 3], data: [] }, old_logp: { shape: [0, 2, 3], data: [] }, ref_logp: { shape: [0, 2, 3], data: [] }, mask: { shape: [0, 2, 3], data: [] }, reward: { shape: [0, 2], data: [] } };
    const r0 = evalJson(empty);
    expect(r0.code).toBe(1);
    expect(r0.err).toContain('dimension `B` is 0: the batch is empty');
    const huge = { logp: { shape: [1e9, 2, 0], data: [] }, old_logp: { shape: [1e9, 2, 0], data: [] }, ref_logp: { shape: [1e9, 2, 0], data: [] }, mask: { shape: [1e9, 2, 0], data: [] }, reward: { shape: [1e9, 2], data: [] } };
    const r1 = evalJson(huge);
    expect(r1.code).toBe(1);
    expect(r1.err).toMatch(/dimension `B` is 1000000000, more than the 16777216 a batch may have|`reward` has 0 values, but its shape \[1000000000,2\] needs/);
    const huge2 = { ...huge, reward: undefined };
    const r2 = evalJson(huge2);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain('dimension `B` is 1000000000, more than the 16777216 a batch may have');
  });

  it('reports a folder as --batch, an output into a missing folder and JSON nested 3,000 deep as user errors', () => {
    const d = join(dir, 'a-folder.json');
    require('node:fs').mkdirSync(d);
    const asDir = rlp(['eval', 'grpo', '--batch', d, '--backend', 'cpu']);
    expect(asDir.code).toBe(1);
    expect(asDir.err).toContain(`cannot read ${d}: it is a folder`);
    const ok = file('ok.json', JSON.stringify(good));
    const missing = join(dir, 'no', 'such', 'out.json');
    const o = rlp(['eval', 'grpo', '--batch', ok, '--backend', 'cpu', '-o', missing]);
    expect(o.code).toBe(1);
    expect(o.err).toContain(`cannot write ${missing}`);
    expect(require('node:fs').readdirSync(dir).filter((f: string) => f.includes('.tmp-'))).toEqual([]);
    const deep = rlp(['eval', 'grpo', '--batch', file('deep.json', '{"logp": ' + '['.repeat(3000) + ']'.repeat(3000) + '}'), '--backend', 'cpu']);
    expect(deep.code).toBe(1);
    expect(deep.err).toMatch(/nested more than \d+ levels deep/);
  });
});
