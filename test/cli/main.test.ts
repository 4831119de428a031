/** A crash inside a command is reported as a bug with exit code 70, never as a user error. */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../runtime/cli/commands/check.js', () => ({
  runCheck: () => {
    throw new TypeError('boom');
  },
}));

describe('main', () => {
  it('turns an unexpected exception into exit code 70 and says it is a bug', async () => {
    const { main } = await import('../../runtime/cli/main.js');
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      writes.push(String(s));
      return true;
    });
    const code = await main(['check', 'x.rlp']);
    spy.mockRestore();
    expect(code).toBe(70);
    expect(writes.join('')).toContain('internal error: boom');
    expect(writes.join('')).toContain('this is a bug in rlp');
  });
});
