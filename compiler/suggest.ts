/** "Did you mean" suggestions by edit distance. */
import { distance } from 'fastest-levenshtein';

/** The closest candidate to `name`, if it is close enough to be a plausible typo. */
export function closest(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    if (c === name) continue;
    const d = c.toLowerCase() === lower ? 0.5 : distance(name, c);
    if (d < bestD || (d === bestD && best !== null && c < best)) {
      best = c;
      bestD = d;
    }
  }
  const limit = name.length <= 2 ? 0.5 : name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
  if (best !== null && bestD <= limit) return best;
  // A longer spelling of a short name (`Adv` for `A`, `rewards` for `reward`).
  const prefixed = [...candidates].filter((c) => c !== name && name.startsWith(c)).sort((a, b) => b.length - a.length);
  return prefixed[0] ?? null;
}

/** `help` text for a did-you-mean, or null. */
export function didYouMean(name: string, candidates: Iterable<string>): string | null {
  const c = closest(name, candidates);
  return c === null ? null : `did you mean \`${c}\`?`;
}

/** A short "valid choices" list: `a`, `b` or `c`. */
export function listChoices(choices: readonly string[], max = 12): string {
  const shown = choices.slice(0, max).map((c) => '`' + c + '`');
  const more = choices.length > max ? ` (and ${choices.length - max} more)` : '';
  if (shown.length <= 1) return (shown[0] ?? '') + more;
  return shown.slice(0, -1).join(', ') + ' or ' + shown[shown.length - 1] + more;
}
