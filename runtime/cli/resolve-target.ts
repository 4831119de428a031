/** `FILE|NAME` arguments: a path to a .rlp file, or the name of a stdlib pipeline. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findStdlibDir } from '../../compiler/bind/host.js';
import { closest } from '../../compiler/suggest.js';
import { UsageError } from './io.js';

/** Every stdlib pipeline name with the file that declares it. */
export function stdlibPipelines(): Map<string, string> {
  const dir = findStdlibDir();
  const out = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.rlp')).sort();
  } catch {
    return out;
  }
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/^\s*pipeline\s+([A-Za-z_][A-Za-z0-9_]*)/gm)) if (!out.has(m[1]!)) out.set(m[1]!, join(dir, f));
  }
  return out;
}

/** The file to compile for a CLI target, and the pipeline it names (for stdlib names). */
export function resolveTarget(target: string): { file: string; pipeline: string | null } {
  if (existsSync(target)) return { file: target, pipeline: null };
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(target)) {
    const std = stdlibPipelines();
    const f = std.get(target);
    if (f !== undefined) return { file: f, pipeline: target };
    const near = closest(target, std.keys());
    throw new UsageError(`\`${target}\` is neither a file nor a standard pipeline${near !== null ? `; did you mean \`${near}\`?` : ''} (\`rlp list\` shows them)`);
  }
  if (target.endsWith('.rlp')) throw new UsageError(`cannot read \`${target}\`: no such file`);
  throw new UsageError(`\`${target}\` is neither a file nor a standard pipeline; \`rlp list\` shows the standard pipelines`);
}
