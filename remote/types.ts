/**
 * The contract every batch backend keeps (inline, local workers, BullMQ on Redis).
 *
 * A task is content: a kind name and its parameters (the task's seed is one of them,
 * filled in by the batch layer). A backend runs a batch of tasks and hands every
 * result to the caller exactly once, in index order, whatever order they finish in.
 */

/** One unit of work: what to run and with which parameters. Plain data, JSON-safe. */
export interface Task {
  readonly kind: string;
  readonly params: readonly number[];
}

/** A finished task either produced its values or failed with a reason. */
export type TaskStatus = 'done' | 'failed';

/**
 * A task's outcome. `reason` is a short stable code for failures (`threw`,
 * `unknown-kind`, `bad-params`, `malformed-task`, `bad-result`, `worker-lost`,
 * `stalled`, ...); `message` says more (for `threw`, the handler's error message).
 * Neither carries timing or host details, so a result file built from these is the
 * same on every backend and every run.
 */
export interface TaskResult {
  readonly status: TaskStatus;
  readonly values: readonly number[];
  readonly reason?: string;
  readonly message?: string;
}

/** The tasks of a batch, produced on demand so a huge batch is never materialised. */
export interface TaskSource {
  readonly count: number;
  /**
   * The task at index i (0 <= i < count). Called at most once per index per run, and the
   * task it returns is read once (its kind, its params and each value): what is checked is
   * what runs. If it throws, runBatch rejects with BackendError('INVALID_TASK'), the thrown
   * value as its `cause`.
   */
  task(i: number): Task;
}

/** One batch: its tasks, where each result goes, and how it may be bounded, resumed or aborted. */
export interface BatchRun {
  readonly tasks: TaskSource;
  /** Most tasks submitted and not yet finished at once. Default: per backend. */
  readonly maxInFlight?: number;
  /** Indices already done (resume from a checkpoint): not run, no onResult, counted as done for progress. */
  readonly skip?: (i: number) => boolean;
  /**
   * Receives each result exactly once per (non-skipped) index, in index order. It may
   * not call runBatch on the same backend; if it throws, the batch stops and runBatch
   * rejects with that error.
   */
  readonly onResult: (i: number, result: TaskResult) => void;
  /** After each delivered result (and once at the start): done includes skipped indices. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborting stops submitting; runBatch rejects with BackendError('ABORTED'). */
  readonly signal?: AbortSignal;
  /**
   * Names the run. Task ids are derived from it and from each task's content, so a
   * resumed run with the same id finds the work its predecessor left in the queue.
   * Default: a random id. Letters, digits, `_` and `-`, at most 64.
   */
  readonly runId?: string;
}

/** What runBatch resolves with once every index has been delivered or skipped. */
export interface BatchSummary {
  /** Results delivered with status done. */
  readonly completed: number;
  /** Results delivered with status failed. */
  readonly failed: number;
  /** Indices not run because skip() said so. */
  readonly skipped: number;
  /** Results that arrived for a task already delivered: counted, never applied twice. */
  readonly duplicates: number;
  /** Tasks whose result came from a second delivery of the task (a lost worker, a lost job). */
  readonly redelivered: number;
}

/** Where a batch runs: the calling thread, the engine's worker threads, or remote workers through Redis. */
export type BackendName = 'inline' | 'local' | 'bullmq';

/** A backend runs batches. One batch at a time per backend instance. */
export interface BatchBackend {
  readonly name: BackendName;
  runBatch(batch: BatchRun): Promise<BatchSummary>;
  /** Releases what the backend holds (connections); an engine it was given stays running. */
  close(): Promise<void>;
}
