/** How the IR and the CLI print a number. */

/** Numbers print in the shortest form that reads back to the same float64. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(v);
}
