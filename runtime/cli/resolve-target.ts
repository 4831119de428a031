/** `FILE|NAME` arguments: a path to a .rlp file, or the name of a stdlib pipeline. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findStdlibDir } from '../../compiler/bind/host.js';
import { UsageError } from './io.js';

/** The file to compile for a CLI target, and the pipeline it names (for stdlib names). */
export function resolveTarget(target: string): { file: string; pipeline: string | null } {
  if (existsSync(target)) return { file: target, pipeline: null };
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(target)) {
    const f = join(findStdlibDir(), `${target}.rlp`);
    if (existsSync(f)) return { file: f, pipeline: target };
  }
  if (target.endsWith('.rlp')) throw new UsageError(`cannot read \`${target}\`: no such file`);
  throw new UsageError(`\`${target}\` is neither a file nor a standard pipeline; \`rlp list\` shows the standard pipelines`);
}
