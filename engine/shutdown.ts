/**
 * Shutdown: stop taking jobs, give in-flight jobs their time, cancel what never started,
 * fail what was still running with reason `shutdown`, stop the threads, and report.
 * Nothing is left behind: no timer, no thread, no job without its outcome.
 *
 * Main thread only.
 */
import type { ResultView, ShutdownReport, EngineStats } from './api.js';
import type { Books } from './books.js';
import { delay, sharedNow, within } from './clock.js';
import type { Collector } from './collector.js';
import type { Dispatcher } from './dispatcher.js';
import { EngineError } from './errors.js';
import type { JobTable } from './job-table.js';
import { ENGINE_STOPPING, H_ENGINE_STATE } from './layout.js';
import { EngineState, type Supervisor } from './supervisor.js';

export interface ShutdownOptions {
  /** How long in-flight jobs get to finish, ms. Default 2000. */
  timeoutMs?: number;
  /**
   * Receives results that arrive while shutting down. If it throws, shutdown still
   * completes (every job gets its outcome, every thread stops), then rejects with the
   * first error it threw.
   */
  onResult?: (r: ResultView) => void;
}

export interface ShutdownParts {
  readonly books: Books;
  readonly jobs: JobTable;
  readonly dispatcher: Dispatcher;
  readonly collector: Collector;
  readonly supervisor: Supervisor;
  readonly header: Int32Array;
  /** False with workers: 0. */
  readonly threaded: boolean;
  poll(sink: (r: ResultView) => void): number;
  stats(): EngineStats;
  cleanup(): void;
}

/** Reads the options once. Throws EngineError('INVALID_OPTION') for a malformed one. */
function readOptions(options: unknown): { timeoutMs: number; onResult: ((r: ResultView) => void) | undefined } {
  if (options === undefined) return { timeoutMs: 2000, onResult: undefined };
  let timeoutMs: unknown;
  let onResult: unknown;
  try {
    if (options === null || typeof options !== 'object') throw new TypeError('not an object');
    timeoutMs = (options as ShutdownOptions).timeoutMs;
    onResult = (options as ShutdownOptions).onResult;
  } catch {
    throw new EngineError('INVALID_OPTION', 'shutdown options must be an object with readable fields');
  }
  if (timeoutMs === undefined) timeoutMs = 2000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
    throw new EngineError('INVALID_OPTION', `shutdown timeoutMs must be a non-negative number, got ${typeof timeoutMs === 'number' ? timeoutMs : typeof timeoutMs}`);
  }
  if (onResult !== undefined && typeof onResult !== 'function') {
    throw new EngineError('INVALID_OPTION', `shutdown onResult must be a function, got ${onResult === null ? 'null' : typeof onResult}`);
  }
  return { timeoutMs, onResult: onResult as ((r: ResultView) => void) | undefined };
}

/**
 * Validates the options (throws EngineError('INVALID_OPTION'), and nothing has changed)
 * and starts shutting down: the engine stops taking jobs at once. The work itself starts
 * on a later microtask, so a call from inside a result callback waits for that delivery
 * to return.
 */
export function shutdownEngine(p: ShutdownParts, options: unknown): Promise<ShutdownReport> {
  const opts = readOptions(options);
  const inFlightAtStart = p.books.inFlight;
  p.supervisor.state = EngineState.Stopping;
  return run(p, opts.timeoutMs, opts.onResult, inFlightAtStart);
}

async function run(p: ShutdownParts, timeoutMs: number, onResult: ((r: ResultView) => void) | undefined, inFlightAtStart: number): Promise<ShutdownReport> {
  await null;
  const { books, jobs, supervisor } = p;
  const before = { completed: books.completed, failed: books.failed, expired: books.expired, cancelled: books.cancelled };
  let thrown: { error: unknown } | null = null;
  const sink = (r: ResultView): void => {
    if (onResult === undefined) return;
    try {
      onResult(r);
    } catch (error) {
      thrown ??= { error };
    }
  };
  p.dispatcher.flush();
  const start = sharedNow();
  while (books.inFlight > 0 && sharedNow() - start < timeoutMs) {
    p.poll(sink);
    if (books.inFlight === 0) break;
    if (p.threaded && !supervisor.anyThreadUp) break;
    const d = delay(1);
    await d.promise;
  }
  const timedOut = books.inFlight > 0;
  // Queued jobs that never started are cancelled.
  supervisor.cancelQueued(-1);
  // Workers stop at their next look at the engine state; the ones that do not are terminated.
  Atomics.store(p.header, H_ENGINE_STATE, ENGINE_STOPPING);
  supervisor.wakeAll();
  if (p.threaded) {
    await within(supervisor.allExited(), Math.max(100, timeoutMs - (sharedNow() - start)), () => null).catch(() => {});
    supervisor.stopWatching();
    await supervisor.terminateAll();
  }
  p.poll(sink);
  // Whatever is still live was running on a worker that is gone now.
  for (let slot = 0; slot < jobs.capacity; slot++) {
    if (jobs.live[slot] === 0 || jobs.lost[slot] === 1) continue;
    if (jobs.taken[slot] === 1) p.collector.releaseTaken(slot);
    else p.collector.queueLost(slot, 'shutdown');
  }
  p.collector.deliverAllLost(sink);
  supervisor.state = EngineState.Stopped;
  supervisor.stopWatching();
  p.cleanup();
  const report: ShutdownReport = {
    completed: books.completed - before.completed,
    failed: books.failed - before.failed,
    expired: books.expired - before.expired,
    cancelled: books.cancelled - before.cancelled,
    inFlightAtStart,
    timedOut,
    stats: p.stats(),
  };
  if (thrown !== null) throw (thrown as { error: unknown }).error;
  return report;
}
