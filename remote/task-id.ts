/**
 * Task ids are derived from content: the run id, the kind and the exact bits of every
 * parameter (the seed is one of them). A task that is redelivered, re-added after a
 * lost job, or added again by a resumed run gets the same id, and BullMQ keeps one job
 * per id, so the same work is never queued twice.
 */
import { createHash } from 'node:crypto';
import { BackendError } from './errors.js';
import type { Task } from './types.js';

const RUN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function checkRunId(runId: string): string {
  if (typeof runId !== 'string' || !RUN_ID_RE.test(runId)) {
    throw new BackendError('INVALID_OPTION', `runId must be 1-64 letters, digits, '_' or '-', got ${JSON.stringify(runId)}`);
  }
  return runId;
}

/** A fresh random run id. */
export const randomRunId = (): string => `run-${createHash('sha256').update(`${process.pid}:${performance.now()}:${Math.random()}`).digest('hex').slice(0, 16)}`;

const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

/** `<runId>.<32 hex digits>`: BullMQ job ids may not contain ':' nor look like integers. */
export function taskId(runId: string, task: Task): string {
  const h = createHash('sha256');
  h.update(task.kind);
  h.update('\u0000');
  for (const v of task.params) {
    // Exact bits, little-endian, so 0.1 + 0.2 and 0.3 are different tasks and -0 is not 0.
    scratch[0] = v;
    h.update(scratchBytes);
  }
  return `${runId}.${h.digest('hex').slice(0, 32)}`;
}
