/** Writing a file so that a reader sees the old content or the new, never a partial file. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/** Write `path` so that a reader never sees a partial file; a failed write leaves no temporary file. */
export function writeAtomic(path: string, body: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, body);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
