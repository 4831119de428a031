/** Progress lines overwrite each other on a terminal and stay plain elsewhere. */
import { describe, expect, it } from 'vitest';
import { progressLogger } from '../../runtime/cli/io.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream };
}

describe('progressLogger', () => {
  it('rewrites progress lines in place on a terminal', () => {
    const ci = process.env['CI'];
    delete process.env['CI'];
    try {
      const { chunks, stream } = fakeStream(true);
      const p = progressLogger(stream);
      p.log('step 1/3  reward 0.1');
      p.log('step 2/3  reward 0.2');
      p.log('run written to x');
      expect(chunks.join('')).toBe('\r\x1b[2Kstep 1/3  reward 0.1\r\x1b[2Kstep 2/3  reward 0.2\nrun written to x\n');
    } finally {
      if (ci !== undefined) process.env['CI'] = ci;
    }
  });

  it('prints every line plainly when the output is not a terminal', () => {
    const { chunks, stream } = fakeStream(false);
    const p = progressLogger(stream);
    p.log('step 1/3  reward 0.1');
    p.log('step 2/3  reward 0.2');
    p.done();
    expect(chunks.join('')).toBe('step 1/3  reward 0.1\nstep 2/3  reward 0.2\n');
  });
});
