/**
 * What `rlp check` and `rlp run` tell the compiler about a run's inputs: the reward functions of a
 * --rewards module (and the columns they declare), and the columns of the data (a JSONL file or a
 * built-in task), so that a reward reading a missing column is a compile error with its span.
 */
import { basename } from 'node:path';
import type { CompileOptions } from '../../compiler/compile.js';
import type { Task } from '../tasks/index.js';

/** The columns every row of a built-in task has. */
export const TASK_COLUMNS: readonly string[] = Object.freeze(['prompt', 'answer', 'format']);

/** Options of `compileFiles` for a run with this module, data file or task (each optional). */
export async function compileInputs(o: { rewards?: string | undefined; data?: string | undefined; task?: Task | null | undefined }): Promise<CompileOptions> {
  let rewards: string[] = [];
  const rewardColumns: Record<string, readonly string[]> = {};
  if (o.rewards !== undefined) {
    const { loadRewardModule, declaredColumns } = await import('../rewards/module.js');
    for (const [name, fn] of await loadRewardModule(o.rewards)) {
      rewards.push(name);
      rewardColumns[name] = declaredColumns(fn);
    }
  }
  if (o.data !== undefined) {
    const { validateDataset } = await import('../data/jsonl.js');
    const info = await validateDataset(o.data);
    // Preference rows feed pipelines without a reward stage; the run says if the kinds do not match.
    if (info.kind === 'preference') return { rewards, rewardColumns };
    return { rewards, rewardColumns, data: { source: basename(o.data), columns: info.columns, partial: info.partial } };
  }
  if (o.task !== undefined && o.task !== null) return { rewards, rewardColumns, data: { source: `the built-in task ${o.task.name}`, columns: TASK_COLUMNS } };
  return { rewards, rewardColumns };
}
