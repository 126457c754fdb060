/**
 * EngineCore.whenResults: code that has nothing to do until a result comes (a loading
 * screen, a tool, a page between frames) awaits one instead of polling in a loop. A loop
 * that polls keeps its thread running, and on a machine with few cores that thread holds
 * the core a worker needs to start the job: in Chromium on 2 cores, a job submitted after
 * a few idle milliseconds waited up to 3.6 ms (p99) for its worker while the page spun on
 * poll, and under 0.1 ms while the page waited here.
 *
 * Main asks by setting H_RESULT_WANTED and awaits a change of H_RESULT_SEQ with
 * Atomics.waitAsync; the first worker to publish a result clears the one and bumps the
 * other (wakeResultWaiter). Workers read the request word after each result, a line
 * that changes only when main starts waiting.
 *
 * Main thread only. Allocates a promise per wait: not for the per-job path.
 */
import type { Collector } from './collector.js';
import type { Dispatcher } from './dispatcher.js';
import { EngineError, shownValue } from './errors.js';
import { H_RESULT_SEQ, H_RESULT_WANTED } from './layout.js';

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsync = (a: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;

/** Atomics.waitAsync where the platform has it (Node 16+, Chromium 87+, Safari 16.4+). */
const waitAsync: WaitAsync | null =
  typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function' ? (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync : null;

/** Where there is no waitAsync, how often the wait looks for a result, ms. */
const FALLBACK_POLL_MS = 1;

const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);

/**
 * Wakes a whenResults wait, from a worker that published a result or from the main thread:
 * whoever clears the request bumps the sequence, so one wake per request.
 * ORDERING: called after the outcome is visible (a result's tail stored, a failure queued).
 */
export function wakeResultWaiter(header: Int32Array): void {
  if (Atomics.compareExchange(header, H_RESULT_WANTED, 1, 0) !== 1) return;
  Atomics.add(header, H_RESULT_SEQ, 1);
  Atomics.notify(header, H_RESULT_SEQ);
}

export interface ResultWaitHost {
  /** The engine takes jobs (not shut down or shutting down). */
  running(): boolean;
  /** Jobs accepted and not yet delivered. */
  inFlight(): number;
  /** True when jobs run on the engine's own thread, inside poll(). */
  inline(): boolean;
}

export class ResultWaiter {
  private readonly header: Int32Array;
  private readonly collector: Collector;
  private readonly dispatcher: Dispatcher;
  private readonly host: ResultWaitHost;

  constructor(header: Int32Array, collector: Collector, dispatcher: Dispatcher, host: ResultWaitHost) {
    this.header = header;
    this.collector = collector;
    this.dispatcher = dispatcher;
    this.host = host;
  }

  /**
   * Resolves true once poll() has something to deliver (at once if it has now), false
   * after `timeoutMs` without that, or at once when nothing is in flight to wait for.
   */
  wait(timeoutMs: unknown): Promise<boolean> {
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs === Infinity) {
      return Promise.reject(
        new EngineError('INVALID_ARGUMENT', `whenResults() timeoutMs must be a finite number >= 0, got ${shownValue(timeoutMs)}`),
      );
    }
    const h = this.header;
    const seq = Atomics.load(h, H_RESULT_SEQ);
    // ORDERING: the request is stored (seq-cst) before the rings are looked at: a result
    // published after that look finds the request and bumps H_RESULT_SEQ past `seq`.
    Atomics.store(h, H_RESULT_WANTED, 1);
    if (this.collector.anyWaiting) return TRUE;
    const host = this.host;
    // On an inline engine poll() itself runs the jobs; with nothing in flight no result
    // can come; and once the engine stops, shutdown has delivered or failed every job.
    const inFlight = host.inFlight();
    if (inFlight > 0 && host.inline()) return TRUE;
    if (inFlight === 0 || !host.running()) return FALSE;
    // Records written but not yet published would otherwise wait for the end of this task.
    this.dispatcher.flush();
    return waitAsync === null ? this.pollFor(timeoutMs) : this.sleep(waitAsync, seq, timeoutMs);
  }

  /**
   * A failure decided on this thread (a worker lost, shutdown) is waiting for poll: wakes
   * a wait as a worker's result would. Main thread; a notify from the waiting thread
   * itself settles its waitAsync.
   */
  kick(): void {
    if (Atomics.load(this.header, H_RESULT_WANTED) === 1) wakeResultWaiter(this.header);
  }

  private sleep(wa: WaitAsync, seq: number, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      // A pending waitAsync does not keep Node's event loop alive, and its timeout fires on
      // whole milliseconds anyway: a timer is the timeout, and the wait only ends it early.
      const timer = setTimeout(() => resolve(this.collector.anyWaiting), timeoutMs);
      const r = wa(this.header, H_RESULT_SEQ, seq, timeoutMs + 1);
      if (!r.async) {
        if (r.value === 'not-equal') {
          clearTimeout(timer);
          resolve(true);
        }
        return;
      }
      void r.value.then((how) => {
        if (how !== 'ok') return;
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private pollFor(timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    return new Promise<boolean>((resolve) => {
      const look = (): void => {
        if (this.collector.anyWaiting) resolve(true);
        else if (performance.now() >= end) resolve(false);
        else setTimeout(look, Math.min(FALLBACK_POLL_MS, Math.max(0, end - performance.now())));
      };
      setTimeout(look, Math.min(FALLBACK_POLL_MS, timeoutMs));
    });
  }
}
