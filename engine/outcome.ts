/**
 * Every submitted job ends in exactly one outcome. `submit` returns a job id (>= 0)
 * or a negative rejection code; everything else arrives through `poll` (done, failed,
 * expired) or is known at the call that caused it (cancel returns true).
 */
export const Outcome = {
  Done: 1,
  Failed: 2,
  Expired: 3,
  Cancelled: 4,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const outcomeName = (o: number): string =>
  o === Outcome.Done ? 'done' : o === Outcome.Failed ? 'failed' : o === Outcome.Expired ? 'expired' : o === Outcome.Cancelled ? 'cancelled' : 'unknown';

/** Negative return values of `submit`. Never thrown: overload is a normal answer. */
export const Rejection = {
  /** Every worker's ring is full (or the job table is): back off, try next frame. */
  RingFull: -1,
  /** No kind with that id is registered. */
  UnknownKind: -2,
  /** Wrong parameter count, a non-number, NaN, or a value out of the declared range. */
  BadParams: -3,
  /** The arena cannot hold the job's payload right now, or the payload is larger than the arena. */
  ArenaFull: -4,
  /** The queued work already exceeds the admission budget (`maxQueueMs`): it would be late. */
  Overloaded: -5,
  /** The engine is shutting down or shut down. */
  ShutDown: -6,
  /** The payload is larger than the kind allows or larger than the whole arena. */
  PayloadTooLarge: -7,
  /**
   * Every worker is dead for good (each used up maxRespawnsPerMinute): nothing will run
   * the job, now or later. Not a reason to retry.
   */
  NoWorkers: -8,
} as const;
export type Rejection = (typeof Rejection)[keyof typeof Rejection];

const rejectionNames: Record<number, string> = {
  [Rejection.RingFull]: 'ring-full',
  [Rejection.UnknownKind]: 'unknown-kind',
  [Rejection.BadParams]: 'bad-params',
  [Rejection.ArenaFull]: 'arena-full',
  [Rejection.Overloaded]: 'overloaded',
  [Rejection.ShutDown]: 'shut-down',
  [Rejection.PayloadTooLarge]: 'payload-too-large',
  [Rejection.NoWorkers]: 'no-workers',
};

export const rejectionName = (code: number): string => rejectionNames[code] ?? 'unknown';
export const ALL_REJECTIONS: readonly Rejection[] = Object.values(Rejection);
