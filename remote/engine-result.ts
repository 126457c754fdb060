/**
 * One translation from the engine's reused ResultView to a TaskResult, used by the local
 * backends and by the remote worker alike, so the same task gives the same result (and
 * the same failure words) on every backend. Nothing in it depends on which thread ran
 * the job or when.
 */
import type { ResultView } from '../engine/api.js';
import { Outcome, rejectionName } from '../engine/outcome.js';
import { failure } from './validate.js';
import type { TaskResult } from './types.js';

/** The handler's error as its first stack line (`RangeError: ...`), identical inline and on a worker. */
function thrownMessage(message: string, stack: string): string {
  const first = stack.split('\n', 1)[0];
  return first !== undefined && first.length > 0 ? first : message;
}

/** Copies a result out of the reused view. */
export function resultFromView(r: ResultView): TaskResult {
  if (r.status === Outcome.Done) return { status: 'done', values: Array.from(r.values.subarray(0, r.valueCount)) };
  if (r.status === Outcome.Failed) {
    const e = r.error;
    if (e === null) return failure('failed', 'the job failed');
    if (e.reason === 'threw') return failure('threw', thrownMessage(e.message, e.workerStack));
    return failure(e.reason, `the job failed: ${e.reason}`);
  }
  if (r.status === Outcome.Expired) return failure('expired', 'the job passed its deadline frame before it started');
  return failure('cancelled', 'the job was cancelled');
}

/** The failure for a submit rejection that will not go away by retrying. */
export const rejectedAtSubmit = (code: number): TaskResult => failure(rejectionName(code), `rejected at submit: ${rejectionName(code)}`);
