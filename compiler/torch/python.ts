/** Small pieces of Python source: safe names, dim alignment by indexing, the names an expression reads. */

const RESERVED = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield', 'torch', 'float', 'int', 'bool', 'len', 'range', 'dict', 'list', 'isinstance',
]);

/** A DSL name as a Python identifier that shadows nothing the emitted code uses. */
export function pyName(name: string): string {
  const v = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (RESERVED.has(v)) return `${v}_`;
  return /^[A-Za-z]/.test(v) ? v : `v${v}`;
}

/**
 * `v` indexed so that its dims `from` line up with `to` by name (`x[:, :, None]`): missing dims
 * become size-1 axes. `from` is in canonical order, a subsequence of `to`; leading new axes and
 * trailing full slices are left to broadcasting.
 */
export function alignIndex(v: string, from: readonly string[], to: readonly string[]): string {
  if (from.length === to.length || from.length === 0) return v;
  const idx = to.map((d) => (from.includes(d) ? ':' : 'None'));
  while (idx.length > 0 && idx[0] === 'None') idx.shift();
  while (idx.length > 0 && idx[idx.length - 1] === ':') idx.pop();
  return idx.length === 0 ? v : `${v}[${idx.join(', ')}]`;
}

/** Which of `names` the expression reads (not as an attribute `.name` or a keyword `name=`). */
export function refsIn(expr: string, names: ReadonlySet<string>): string[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const out = new Set<string>();
  for (const m of code.matchAll(/(?<![\w.])([A-Za-z_]\w*)(?!\s*=(?!=))/g)) if (names.has(m[1]!)) out.add(m[1]!);
  return [...out];
}
