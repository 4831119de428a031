/** What `rlp run` is asked for, and the error type of its setup and data problems. */
import type { BackendName } from '../backends/index.js';
import type { CompiledProgram } from '../exec/program.js';
import type { Task } from '../tasks/index.js';

/** A problem with the run's setup or data: a user error with a clear message. */
export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainError';
  }
}

/** What `rlp run` asks for. */
export interface TrainOptions {
  /** The pipeline, lowered for this run (its params resolved from `set`). */
  readonly program: CompiledProgram;
  readonly task: Task | null;
  /** A built-in task's training set: rows 0..taskSize-1 of its seeded stream, cycled; 0: the endless stream. */
  readonly taskSize?: number;
  readonly data: string | null;
  readonly steps: number;
  readonly prompts: number;
  readonly backend: BackendName;
  readonly seed: number;
  readonly out: string;
  readonly set: Readonly<Record<string, string>>;
  readonly resume: boolean;
  readonly rewardsModule: string | null;
  readonly lr: number;
  readonly saveEvery: number;
  readonly microBatches: number;
  /** Optimizer passes over each rollout batch (PPO's epochs; the clip keeps later passes close). */
  readonly epochs?: number;
  readonly dryRun: boolean;
  /** Start from these weights (an `rlp sft` run or a checkpoint folder); they are also the reference policy. */
  readonly init: string | null;
  /** A step whose loss or gradient norm is not finite is skipped (no weight changes) instead of stopping the run. */
  readonly skipNonfinite?: boolean;
  /** How long a --rewards module's function may take per call (ms; default 60 s). */
  readonly rewardTimeoutMs?: number;
  readonly log: (line: string) => void;
  /** Checked between steps: when true, the loop saves and stops. */
  readonly stopRequested?: () => boolean;
}

/** One line of metrics.jsonl. */
export type Metrics = Record<string, number>;
