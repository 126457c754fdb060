/**
 * Typed errors of the batch backends and groups. Callers match on `code`; messages are
 * for people, and never carry a Redis password (every message built from a URL or a
 * driver error goes through the redactor first).
 */
export type BackendErrorCode =
  /** An option is missing or malformed (the message names it). */
  | 'INVALID_OPTION'
  /** A batch's task source or a task is malformed (not a bad parameter: those fail the task). */
  | 'INVALID_TASK'
  /** Redis could not be reached at start, or was unreachable mid-run for longer than allowed. */
  | 'REDIS_UNREACHABLE'
  /** Redis answered, but refused (wrong password, wrong version, a queue error). */
  | 'REDIS_ERROR'
  /** A kind with a frame deadline was routed to a remote backend. */
  | 'FRAME_DEADLINE_REMOTE'
  /** The batch was aborted through its signal. */
  | 'ABORTED'
  /** runBatch was called while the same backend was running another batch, or after close. */
  | 'BUSY'
  | 'CLOSED';

export class BackendError extends Error {
  readonly code: BackendErrorCode;
  constructor(code: BackendErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'BackendError';
    this.code = code;
  }
}
