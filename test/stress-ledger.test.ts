import { describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { JobError } from '../engine/errors.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { Ledger } from '../stress/report/ledger.js';

const CAP = 8;

function view(jobId: number, status: Outcome, kind = 0, error: JobError | null = null): ResultView {
  return {
    jobId,
    kind,
    tag: 0,
    status,
    submitFrame: 0,
    deadlineFrame: 0,
    worker: 0,
    item: 0,
    values: new Float64Array(10),
    valueCount: 0,
    arenaOffset: -1,
    arenaBytes: 0,
    error,
    latencyMs: 0,
    runMs: 0,
  };
}

const never = (): boolean => false;

describe('stress ledger', () => {
  it('counts every outcome once and measures latency from submit to poll', () => {
    const l = new Ledger(CAP, 2);
    l.onSubmit(0, 100);
    l.onSubmit(1, 100);
    l.onSubmit(2, 100);
    l.onSubmit(3, 100);
    l.onSubmit(Rejection.Overloaded, 100);
    l.onSubmit(Rejection.BadParams, 100);
    expect(l.pending).toBe(4);
    expect(l.onResult(view(0, Outcome.Done, 1), 112.5, never)).toBe(12.5);
    expect(l.onResult(view(1, Outcome.Expired), 120, never)).toBe(-1);
    l.onCancelled(2);
    l.onResult(view(3, Outcome.Failed, 0, new JobError('worker-lost', 'gone', '', 1)), 130, never);
    expect([l.submitted, l.completed, l.expired, l.cancelled, l.failed, l.rejected, l.pending]).toEqual([6, 1, 1, 1, 1, 2, 0]);
    expect(l.received).toBe(4);
    expect(l.rejectedByReason()).toEqual({ overloaded: 1, 'bad-params': 1 });
    expect(l.failedByReason).toEqual({ 'worker-lost': 1 });
    expect(l.unexpectedFailed).toBe(1);
    expect(l.latency.summary().max).toBe(12.5);
    expect(l.byKind(['a', 'b'])).toEqual([
      { kind: 'a', completed: 0, failed: 1, expired: 1, latencyMs: expect.objectContaining({ count: 0 }) },
      { kind: 'b', completed: 1, failed: 0, expired: 0, latencyMs: expect.objectContaining({ count: 1, max: 12.5 }) },
    ]);
  });

  it('does not count a failure the classifier explains as unexpected', () => {
    const l = new Ledger(CAP);
    l.onSubmit(5, 0);
    l.onResult(view(5, Outcome.Failed, 0, new JobError('threw', 'x', '', 0)), 1, () => true);
    expect(l.unexpectedFailed).toBe(0);
    expect(l.failedByReason).toEqual({ threw: 1 });
  });

  it('catches a result delivered twice, a result for an id never submitted, and a stale generation', () => {
    const l = new Ledger(CAP);
    l.onSubmit(3, 0);
    l.onResult(view(3, Outcome.Done), 1, never);
    l.onResult(view(3, Outcome.Done), 2, never);
    expect(l.duplicates).toBe(1);
    l.onResult(view(4, Outcome.Done), 2, never);
    expect(l.duplicates).toBe(2);
    // Slot 3, next generation, is in flight: a late record of the old generation is not its result.
    l.onSubmit(3 + CAP, 3);
    l.onResult(view(3, Outcome.Done), 4, never);
    expect(l.duplicates).toBe(3);
    expect(l.isPending(3 + CAP)).toBe(true);
    expect(l.completed).toBe(1);
  });

  it('catches a slot handed out again before its job had an outcome (a vanished job)', () => {
    const l = new Ledger(CAP);
    l.onSubmit(6, 0);
    l.onSubmit(6 + CAP, 1);
    expect(l.vanished).toBe(1);
    expect(l.pending).toBe(1);
    // Books: 2 submitted, 0 outcomes, 1 in flight -> 1 lost, which buildResult reports.
    expect(l.submitted - l.received - l.rejected - l.pending).toBe(1);
  });

  it('catches a cancel the ledger did not expect', () => {
    const l = new Ledger(CAP);
    l.onCancelled(7);
    expect(l.duplicates).toBe(1);
    expect(l.cancelled).toBe(0);
  });
});
