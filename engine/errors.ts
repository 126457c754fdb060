/**
 * Typed errors. Everything the engine throws is an EngineError with a stable `code`
 * that tests and callers match on; messages are for people and may change.
 */
/** The stable codes of EngineError, for callers and tests to match on. */
export type EngineErrorCode =
  | 'INVALID_OPTION'
  | 'UNKNOWN_KIND'
  | 'DUPLICATE_KIND'
  | 'INVALID_KIND'
  | 'KIND_MODULE_FAILED'
  | 'WORKER_INIT_TIMEOUT'
  | 'WORKER_INIT_FAILED'
  | 'LAYOUT_MISMATCH'
  | 'NOT_ISOLATED'
  | 'JOB_FAILED'
  | 'INVALID_ARGUMENT'
  | 'REENTRANT_CALL'
  | 'ALREADY_STARTED'
  | 'ABORTED'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'REJECTED'
  | 'TRACE_OFF';

/**
 * A caller's value for an error message, converting nothing that could run code: an
 * object (a Proxy, one with a throwing toString) is named by its type.
 */
export function shownValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  return typeof v === 'object' || typeof v === 'function' ? typeof v : String(v);
}

/**
 * What a thrown value says, for a message, without throwing again: an Error's message, or
 * the value shown as shownValue shows it. A Proxy or an object whose `message` getter
 * throws is named by its type.
 */
export function thrownText(err: unknown): string {
  try {
    if (typeof err === 'object' && err !== null) {
      const m = (err as { message?: unknown }).message;
      if (typeof m === 'string') return m;
    }
  } catch {
    // fall through: named by its type
  }
  return shownValue(err);
}

/** A thrown value as an Error: itself when it is one, else an Error saying what thrownText says. */
export function asError(err: unknown): Error {
  try {
    if (err instanceof Error) return err;
  } catch {
    // a Proxy whose prototype cannot be read: not an Error we can use
  }
  return new Error(thrownText(err));
}

/** True for a real AbortSignal; false for anything else, a Proxy whose traps throw included. */
export function isAbortSignal(v: unknown): v is AbortSignal {
  try {
    return typeof AbortSignal === 'function' && v instanceof AbortSignal;
  } catch {
    return false;
  }
}

/** Everything the engine throws or rejects with: `code` says what went wrong (EngineErrorCode). */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}

/**
 * Why a failed job failed: the handler threw, its worker went away under it (lost, out of
 * memory), the engine shut down under it, a prerequisite did not end done, or (with
 * EngineOptions.arenaGuards) its handler wrote past its arena slice.
 */
export const FAILURE_REASONS = ['threw', 'worker-lost', 'worker-out-of-memory', 'shutdown', 'dependency-failed', 'arena-overrun'] as const;
/** Why a failed job failed (JobError.reason): one of FAILURE_REASONS. */
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * The error attached to a `failed` outcome. When a handler threw, `workerStack` is the
 * stack as the worker printed it, so the trace points into the handler, not the engine.
 */
export class JobError extends EngineError {
  readonly reason: FailureReason;
  readonly workerStack: string;
  readonly workerIndex: number;
  constructor(reason: FailureReason, message: string, workerStack: string, workerIndex: number) {
    super('JOB_FAILED', message);
    this.name = 'JobError';
    this.reason = reason;
    this.workerStack = workerStack;
    this.workerIndex = workerIndex;
  }
}
