/**
 * What travels through Redis, and how each side checks what it receives.
 *
 *   job name     the task's kind (for people looking at the queue)
 *   job data     { kind, params }                     checked by the remote worker
 *   returnvalue  { values, starts, fails }           checked by the coordinator
 *   failedReason "framejobs:" + JSON { reason, message } for failures the worker decided;
 *                anything else is BullMQ's own words (a stalled job, a lost lock)
 *
 * `starts` and `fails` are the job's start and failure counts when it finished: more
 * starts than failures + 1 means a start was lost (a killed worker, a stalled lock) and
 * the task was delivered again.
 */
import type { JobKind } from '../engine/kind.js';
import type { Redactor } from './redact.js';
import type { Task, TaskResult } from './types.js';
import { checkValues, failure } from './validate.js';

export interface TaskData {
  readonly kind: string;
  readonly params: readonly number[];
}

export interface ReturnValue {
  readonly values: readonly number[];
  readonly starts: number;
  readonly fails: number;
}

const FAILURE_PREFIX = 'framejobs:';
const STALLED_RE = /stalled more than allowable limit/;

export const taskData = (task: Task): TaskData => ({ kind: task.kind, params: Array.from(task.params) });

/** The text a remote worker fails a job with. */
export const encodeFailure = (reason: string, message: string): string => FAILURE_PREFIX + JSON.stringify({ reason, message });

export interface ArrivedResult {
  readonly result: TaskResult;
  /** The task ran more than once because a start was lost. */
  readonly redelivered: boolean;
}

/** The coordinator's reading of a completed job's return value. */
export function decodeReturnValue(rv: unknown, kind: JobKind<any> | undefined): ArrivedResult {
  if (typeof rv !== 'object' || rv === null) return { result: failure('bad-result', 'the job returned no result object'), redelivered: false };
  const r = rv as Partial<ReturnValue>;
  const bad = checkValues(r.values, kind);
  const starts = typeof r.starts === 'number' ? r.starts : 1;
  const fails = typeof r.fails === 'number' ? r.fails : 0;
  const redelivered = starts - fails > 1;
  if (bad !== null) return { result: bad, redelivered };
  return { result: { status: 'done', values: Array.from(r.values as number[]) }, redelivered };
}

/** The coordinator's reading of a failed job's reason. */
export function decodeFailedReason(text: unknown, redactor: Redactor): TaskResult {
  const s = typeof text === 'string' ? text : '';
  if (s.startsWith(FAILURE_PREFIX)) {
    try {
      const o = JSON.parse(s.slice(FAILURE_PREFIX.length)) as { reason?: unknown; message?: unknown };
      if (typeof o.reason === 'string' && /^[a-z][a-z-]{0,40}$/.test(o.reason)) {
        return failure(o.reason, redactor.text(typeof o.message === 'string' ? o.message : ''));
      }
    } catch {
      // Not ours after all: reported as the queue's own words below.
    }
  }
  if (STALLED_RE.test(s)) return failure('stalled', 'the task stalled more often than the worker allows (its workers were lost)');
  return failure('queue-failed', redactor.text(s.slice(0, 500)));
}
