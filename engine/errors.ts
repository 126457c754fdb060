/**
 * Typed errors. Everything the engine throws is an EngineError with a stable `code`
 * that tests and callers match on; messages are for people and may change.
 */
export type EngineErrorCode =
  | 'INVALID_OPTION'
  | 'UNKNOWN_KIND'
  | 'DUPLICATE_KIND'
  | 'INVALID_KIND'
  | 'KIND_MODULE_FAILED'
  | 'WORKER_INIT_TIMEOUT'
  | 'WORKER_INIT_FAILED'
  | 'NOT_STARTED'
  | 'ALREADY_STARTED'
  | 'SHUT_DOWN'
  | 'LAYOUT_MISMATCH'
  | 'NOT_ISOLATED'
  | 'JOB_FAILED'
  | 'INVALID_ARGUMENT'
  | 'REENTRANT_CALL';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** Why a failed job failed: the handler threw, or its worker went away under it. */
export type FailureReason = 'threw' | 'worker-lost' | 'worker-out-of-memory' | 'shutdown';

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
