/** `rlp report DIR [-o OUT.html]`: a self-contained HTML report of a run. Opens nothing; prints the path it wrote. */
import { ReportError } from '../../report/read.js';
import { writeReport } from '../../report/write.js';
import { EXIT } from '../io.js';
import { VERSION } from '../version.js';

/** Run `rlp report`; returns the exit code. */
export async function runReport(dir: string, o: { readonly output?: string }): Promise<number> {
  try {
    process.stdout.write(`${await writeReport(dir, VERSION, o.output)}\n`);
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof ReportError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.user;
  }
}
