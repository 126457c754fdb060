/**
 * The result collector: drains the workers' result rings into one reused ResultView,
 * delivers failures decided on the main thread (a worker lost under its job, shutdown),
 * runs jobs on the main thread for runInline, and guards the caller's callbacks.
 *
 * Callback contract, for every callback a caller hands to poll, runInline or shutdown:
 * - The job's outcome is counted, and its record consumed, before the callback runs; its
 *   slot (and arena slice) is released right after it returns or throws. So a callback
 *   that throws costs no job its single outcome: the error propagates out of the call
 *   that invoked it, the results not yet delivered stay for the next poll, and that
 *   poll works as usual.
 * - Inside a callback, poll and runInline are refused with EngineError('REENTRANT_CALL')
 *   (they would deliver into a view that is still being read); submit, cancel, flush,
 *   beginFrame, stats, health and shutdown are allowed (shutdown starts once the
 *   current delivery has returned).
 *
 * Main thread only.
 */
import type { ResultView } from './api.js';
import type { ArenaAllocator } from './arena.js';
import type { Books } from './books.js';
import { EngineError, FAILURE_REASONS, JobError, type FailureReason } from './errors.js';
import { readErrorText } from './error-text.js';
import { MAX_PARAMS, MAX_RESULTS } from './kind.js';
import type { KindTable } from './kind-table.js';
import type { JobTable } from './job-table.js';
import { bundleResultsAt, bundleStatusAt, type ArenaViews, RANGE_WORDS, RG_COUNT, RG_GRAIN, W_CUR_GEN, W_CUR_SLOT, RECORD_I32, RF_FINISH_TIME, RF_RUN_MS, RF_VALUES, R_ERR_SEQ, R_GEN, R_SLOT, R_STATUS, R_VALUE_COUNT, R_WORKER } from './layout.js';
import { stampAt } from './clock.js';
import { describeThrown } from './error-text.js';
import { Outcome } from './outcome.js';
import type { KindRuntime } from './kind-runtime.js';
import { leaveJob, type WorkerLink } from './worker-link.js';
import type { TraceRecorder } from './trace-recorder.js';

class View implements ResultView {
  jobId = 0;
  kind = 0;
  tag = 0;
  status: Outcome = Outcome.Done;
  submitFrame = 0;
  deadlineFrame = 0;
  worker = 0;
  item = 0;
  readonly values = new Float64Array(MAX_RESULTS);
  valueCount = 0;
  arenaOffset = -1;
  arenaBytes = 0;
  error: JobError | null = null;
  latencyMs = 0;
  runMs = 0;
}


export type OnResult = (r: ResultView) => void;

const NO_CALLBACK: OnResult = () => {};

/** runOnMain calls that share one clock reading. */
const CLOCK_EVERY = 32;

export class Collector {
  private readonly workers: readonly WorkerLink[];
  private readonly jobs: JobTable;
  private readonly kinds: KindTable;
  private readonly books: Books;
  private readonly arena: ArenaAllocator;
  private readonly onCorrupt: (w: WorkerLink, what: string) => void;
  private readonly view = new View();
  private readonly clock = new Float64Array(1);
  /** Runs on this thread left before the clock is read again (see runOnMain). */
  private clockCountdown = 0;
  /** Failures decided on the main thread, delivered by poll in the order they were decided. */
  private readonly lostSlots: Int32Array;
  private readonly lostReason: Uint8Array;
  private readonly lostWorker: Int32Array;
  private lostHead = 0;
  private lostTail = 0;
  /** Round-robin start, so no worker's results always wait behind the others'. */
  private pollStart = 0;
  /** True while a caller's callback runs. */
  private delivering = false;
  /**
   * The bundle whose jobs are being delivered (-1: none): its outcomes are counted, its
   * record consumed, and its jobs go to the callback one by one from `bNext`. A callback
   * that throws, or a poll's `max`, leaves the rest for the next poll, before anything else.
   */
  private bSlot = -1;
  private bGen = 0;
  private bNext = 0;
  private bWorker = 0;
  /** The outcome of every job in it (expired, failed), or 0 when each job's is in its outcome byte (it ran). */
  private bStatus = 0;
  private bError: JobError | null = null;
  private bLatencyMs = 0;
  private bRunMs = 0;
  private readonly arenaF64: Float64Array;
  private readonly arenaU8: Uint8Array;
  /** Parallel-for jobs that ended early, waiting for their helpers to leave (releaseRange). */
  private readonly draining: Int32Array;
  private drainingCount = 0;
  /** The job timeline (EngineOptions.trace), or null: two checks per drain, two per runInline. */
  trace: TraceRecorder | null = null;
  /**
   * Told when a job whose outcome runInline delivered (a twin ran here while a worker ran
   * the original) is over on its worker too: its result came in, or its worker is gone.
   */
  onTakenEnded: ((slot: number) => void) | null = null;
  /** Told when a failure decided on this thread is queued for delivery (it wakes whenResults). */
  onLostQueued: (() => void) | null = null;

  constructor(
    workers: readonly WorkerLink[],
    jobs: JobTable,
    kinds: KindTable,
    books: Books,
    arena: ArenaAllocator,
    views: ArenaViews,
    onCorrupt: (w: WorkerLink, what: string) => void,
  ) {
    this.workers = workers;
    this.arenaF64 = views.f64;
    this.arenaU8 = views.u8;
    this.arena = arena;
    this.jobs = jobs;
    this.kinds = kinds;
    this.books = books;
    this.onCorrupt = onCorrupt;
    this.lostSlots = new Int32Array(jobs.capacity + 1);
    this.lostReason = new Uint8Array(jobs.capacity + 1);
    this.lostWorker = new Int32Array(jobs.capacity + 1);
    this.draining = new Int32Array(jobs.capacity);
  }

  /** True while a caller's callback is running. */
  get inCallback(): boolean {
    return this.delivering;
  }

  /** Throws REENTRANT_CALL from inside a callback, INVALID_ARGUMENT for a callback that is not a function. */
  guard(method: string, onResult: unknown): void {
    if (this.delivering) throw new EngineError('REENTRANT_CALL', `${method}() was called from inside a result callback; call it after the callback returns`);
    if (typeof onResult !== 'function') throw new EngineError('INVALID_ARGUMENT', `${method}() needs a callback function, got ${onResult === null ? 'null' : typeof onResult}`);
  }

  /** Failures waiting for delivery. */
  get lostPending(): boolean {
    return this.lostHead !== this.lostTail;
  }

  /** True when poll() would deliver something now: a failure decided here, or a result a worker published. */
  get anyWaiting(): boolean {
    if (this.lostHead !== this.lostTail || this.bSlot >= 0) return true;
    const ws = this.workers;
    for (let k = 0; k < ws.length; k++) {
      const ring = ws[k].results;
      const tail = ring.loadTail();
      if (tail !== ring.head && ring.validTail(tail)) return true;
    }
    return false;
  }

  /**
   * Delivers up to `max` results: main-side failures first, then each worker's result
   * ring, starting with a different worker each call. Returns how many.
   */
  collect(onResult: OnResult, max: number): number {
    if (this.drainingCount > 0) this.drainRanges();
    let delivered = 0;
    if (this.bSlot >= 0) {
      delivered += this.deliverBundle(onResult, max);
      if (this.bSlot >= 0) return delivered;
    }
    while (this.lostHead !== this.lostTail && delivered < max) {
      delivered += this.deliverLost(onResult, max - delivered);
      if (this.bSlot >= 0) return delivered;
    }
    const ws = this.workers;
    const nw = ws.length;
    const start = this.pollStart;
    this.pollStart = (start + 1) % nw;
    for (let k = 0; k < nw && delivered < max && this.bSlot < 0; k++) delivered += this.drain(ws[(start + k) % nw], onResult, max - delivered, false);
    return delivered;
  }

  /**
   * True when collectSettled would deliver (or drop as stale) something now: the head of
   * the failures queue or of some result ring is not an outcome a poll callback awaits.
   */
  get settledWaiting(): boolean {
    const settlers = this.jobs.settlers;
    if (settlers === null) return false;
    if (this.lostHead !== this.lostTail && settlers[this.lostSlots[this.lostHead]] !== null) return true;
    const ws = this.workers;
    for (let k = 0; k < ws.length; k++) {
      const ring = ws[k].results;
      const tail = ring.loadTail();
      if (tail === ring.head || !ring.validTail(tail)) continue;
      const r = (ring.head & ring.mask) * RECORD_I32;
      if (!this.forPollCallback(ring.recI32[r + R_SLOT], ring.recI32[r + R_GEN])) return true;
    }
    return false;
  }

  /** True when a result record for `slot` at `gen` is a live job's that a poll callback, not a run() promise, awaits. */
  private forPollCallback(slot: number, gen: number): boolean {
    const t = this.jobs;
    return slot >= 0 && slot < t.capacity && t.isRunning(slot, gen) && t.taken[slot] === 0 && (t.settlers === null || t.settlers[slot] === null);
  }

  /**
   * Delivers only outcomes that go to run() promises: each queue and ring up to its first
   * outcome that is someone's poll callback's, which stays for that poll.
   */
  collectSettled(): number {
    const settlers = this.jobs.settlers;
    if (settlers === null) return 0;
    let n = 0;
    while (this.lostHead !== this.lostTail && settlers[this.lostSlots[this.lostHead]] !== null) {
      this.deliverLost(NO_CALLBACK, 1);
      n++;
    }
    for (let k = 0; k < this.workers.length; k++) n += this.drain(this.workers[k], NO_CALLBACK, 0x3fffffff, true);
    return n;
  }

  /**
   * True if a result for `slot` at generation `gen` is published by a worker that holds
   * the job and not yet taken by poll: the job has ended, and runInline must leave it to
   * poll. Scans the result rings (at most ringCapacity records per worker); runInline
   * only, never per job.
   */
  hasWaitingResult(slot: number, gen: number): boolean {
    const t = this.jobs;
    const ws = this.workers;
    for (let k = 0; k < ws.length; k++) {
      const w = ws[k];
      if (t.range[slot] === 0 ? t.worker[slot] !== w.index : (t.rangeMask[slot] & (1 << w.index)) === 0) continue;
      const ring = w.results;
      const tail = ring.loadTail();
      if (!ring.validTail(tail)) continue;
      const resI32 = ring.recI32;
      for (let head = ring.head; head !== tail; head = (head + 1) | 0) {
        const r = (head & ring.mask) * RECORD_I32;
        if (resI32[r + R_SLOT] === slot && resI32[r + R_GEN] === gen) return true;
      }
    }
    return false;
  }

  private drain(w: WorkerLink, onResult: OnResult, max: number, settledOnly: boolean): number {
    const ring = w.results;
    const tail = ring.loadTail();
    if (!ring.validTail(tail)) {
      this.onCorrupt(w, 'result tail out of range');
      return 0;
    }
    let head = ring.head;
    if (head === tail) return 0;
    if (this.trace !== null) this.trace.drainBegin(w.index, head);
    const mask = ring.mask;
    const resI32 = ring.recI32;
    const resF64 = ring.recF64;
    const t = this.jobs;
    const view = this.view;
    let delivered = 0;
    try {
      while (head !== tail && delivered < max) {
        const r = (head & mask) * RECORD_I32;
        const f = r >> 1;
        head = (head + 1) | 0;
        const slot = resI32[r + R_SLOT];
        const gen = resI32[r + R_GEN];
        // A poll callback's result ends a settled-only drain; it stays for that poll.
        if (settledOnly && this.forPollCallback(slot, gen)) {
          head = (head - 1) | 0;
          break;
        }
        if (
          !(slot >= 0 && slot < t.capacity) ||
          !t.isRunning(slot, gen) ||
          t.live[slot] === 0 ||
          t.lost[slot] === 1 ||
          (t.range[slot] === 0 ? t.worker[slot] !== w.index : (t.rangeMask[slot] & (1 << w.index)) === 0)
        ) {
          // A record for a slot that is not running that generation on this worker: stale,
          // torn or foreign. Never applied.
          this.books.staleRecords++;
          continue;
        }
        if (t.range[slot] === 0) w.leave(t, slot);
        else leaveJob(this.workers, t, slot, w);
        if (t.taken[slot] === 1) {
          // Its outcome was already delivered by runInline.
          this.releaseTaken(slot);
          continue;
        }
        if (t.bundle[slot] > 0) {
          this.takeBundle(slot, gen, w, r);
          // The record is consumed before the first callback runs.
          ring.head = head;
          delivered += this.deliverBundle(onResult, max - delivered);
          if (this.bSlot >= 0) break;
          continue;
        }
        this.fill(slot, gen, resI32[r + R_WORKER]);
        const status = resI32[r + R_STATUS];
        const count = resI32[r + R_VALUE_COUNT];
        const runMs = resF64[f + RF_RUN_MS];
        view.runMs = runMs;
        view.latencyMs = resF64[f + RF_FINISH_TIME] - t.time[slot];
        if (status === Outcome.Done) {
          view.status = Outcome.Done;
          const n = count >= 0 && count <= MAX_RESULTS ? count : 0;
          view.valueCount = n;
          for (let i = 0; i < n; i++) view.values[i] = resF64[f + RF_VALUES + i];
          if (t.range[slot] === 0) this.kinds.learnAt(view.kind, resF64, f + RF_RUN_MS);
        } else if (status === Outcome.Failed) {
          view.status = Outcome.Failed;
          // A parallel-for job's error text is in the block of the worker whose chunk threw.
          const ew = t.range[slot] === 0 ? w : this.workers[resI32[r + R_WORKER]] ?? w;
          const text = readErrorText(ew.block, resI32[r + R_ERR_SEQ]);
          view.error = new JobError(
            'threw',
            text ? text.message : 'handler threw (error text was overwritten: more than 8 failures between polls)',
            text ? text.stack : '',
            w.index,
          );
        } else {
          view.status = Outcome.Expired;
        }
        if (t.arenaOffset[slot] >= 0) this.checkGuard(t.arenaOffset[slot]);
        this.books.end(slot, view.status);
        delivered++;
        // The record is consumed before the callback runs: a callback that throws or
        // re-enters can never see it delivered twice.
        ring.head = head;
        this.deliver(onResult, slot);
      }
    } finally {
      if (this.trace !== null) this.trace.drainEnd(head);
      // ORDERING: result records are read in full before their positions are handed back.
      ring.release(head);
    }
    return delivered;
  }

  /**
   * Runs the caller's callback on the filled view, or settles the job's run() promise
   * instead; the slot is released (`release`) whatever the callback does.
   */
  private deliver(onResult: OnResult, slot: number, release = true): void {
    const settlers = this.jobs.settlers;
    const settle = settlers === null ? null : settlers[slot];
    this.delivering = true;
    try {
      if (settle != null) {
        settlers![slot] = null;
        settle(this.view);
      } else onResult(this.view);
    } finally {
      this.delivering = false;
      if (release) {
        if (this.jobs.range[slot] === 1 && this.jobs.lost[slot] === 1) this.releaseRange(slot);
        else this.jobs.release(slot);
      }
    }
  }

  /**
   * Releases a parallel-for job that ended early (its worker died) once no live helper is
   * still inside one of its chunks, which may be writing to its arena slice; until then
   * the slot (and slice) wait in `draining`, looked at by every poll.
   */
  releaseRange(slot: number): void {
    if (this.helperInside(slot)) this.draining[this.drainingCount++] = slot;
    else this.releaseEnded(slot);
  }

  private helperInside(slot: number): boolean {
    const gen = this.jobs.gen(slot);
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i];
      if (w.life === 'alive' && Atomics.load(w.block.i32, W_CUR_SLOT) === slot && Atomics.load(w.block.i32, W_CUR_GEN) === gen) return true;
    }
    return false;
  }

  /** Releases the draining parallel-for jobs whose helpers have all left their chunks. */
  private drainRanges(): void {
    let kept = 0;
    for (let k = 0; k < this.drainingCount; k++) {
      const slot = this.draining[k];
      if (this.helperInside(slot)) this.draining[kept++] = slot;
      else this.releaseEnded(slot);
    }
    this.drainingCount = kept;
  }

  /**
   * Releases the slot of a job whose outcome runInline already delivered, once no worker
   * runs it any more (its result came in, or its worker is gone).
   */
  releaseTaken(slot: number): void {
    if (this.onTakenEnded !== null) this.onTakenEnded(slot);
    this.jobs.release(slot);
  }

  /** Releases a parallel-for job's slot once its helpers are out: through releaseTaken when runInline delivered its outcome. */
  private releaseEnded(slot: number): void {
    if (this.jobs.taken[slot] === 1) this.releaseTaken(slot);
    else this.jobs.release(slot);
  }

  /**
   * Queues a main-side failure for the job in `slot`, once. `worker`: the worker it is
   * reported against (the one whose loss failed it); by default its worker, or for a
   * parallel-for job the first that holds a share of it (-1: none, it never reached one).
   */
  queueLost(slot: number, reason: FailureReason, worker = -2): void {
    const t = this.jobs;
    // A bundle being delivered has its outcomes counted already.
    if (t.lost[slot] === 1 || slot === this.bSlot) return;
    t.lost[slot] = 1;
    if (worker === -2) worker = t.range[slot] === 0 ? t.worker[slot] : t.rangeMask[slot] === 0 ? -1 : 31 - Math.clz32(t.rangeMask[slot] & -t.rangeMask[slot]);
    this.lostSlots[this.lostTail] = slot;
    this.lostReason[this.lostTail] = FAILURE_REASONS.indexOf(reason);
    this.lostWorker[this.lostTail] = worker;
    this.lostTail = (this.lostTail + 1) % this.lostSlots.length;
    if (this.onLostQueued !== null) this.onLostQueued();
  }

  /** Delivers the next main-side failure: one job's, or up to `max` of a bundle's jobs. Returns how many were delivered. */
  private deliverLost(onResult: OnResult, max: number): number {
    const i = this.lostHead;
    this.lostHead = (i + 1) % this.lostSlots.length;
    const slot = this.lostSlots[i];
    const reason = FAILURE_REASONS[this.lostReason[i]];
    const t = this.jobs;
    const worker = this.lostWorker[i];
    this.fill(slot, t.gen(slot), worker);
    const view = this.view;
    view.status = Outcome.Failed;
    stampAt(this.clock, 0);
    view.latencyMs = this.clock[0] - t.time[slot];
    view.error = new JobError(reason, `job ${view.jobId} failed: ${reason} (worker ${worker})`, '', worker);
    if (t.bundle[slot] > 0) {
      this.books.announce(slot, Outcome.Failed);
      this.bLatencyMs = view.latencyMs;
      this.bRunMs = Number.NaN;
      this.startBundle(slot, t.gen(slot), worker, Outcome.Failed, view.error);
      return this.deliverBundle(onResult, max);
    }
    this.books.end(slot, Outcome.Failed);
    this.deliver(onResult, slot);
    return 1;
  }

  /** Delivers every queued main-side failure, and the rest of a bundle being delivered (shutdown). */
  deliverAllLost(onResult: OnResult): void {
    if (this.bSlot >= 0) this.deliverBundle(onResult, 0x3fffffff);
    while (this.lostHead !== this.lostTail) this.deliverLost(onResult, 0x3fffffff);
  }

  /**
   * Announces the outcome of the bundle whose result record is at `r` in `w`'s result ring
   * (failed if any job failed) and makes it the bundle being delivered; each job is counted
   * in the books as it is delivered. Each job's outcome byte is read here, once to find a
   * failure and again to deliver it: nothing writes the slice between the two.
   */
  private takeBundle(slot: number, gen: number, w: WorkerLink, r: number): void {
    const t = this.jobs;
    const ring = w.results;
    const resI32 = ring.recI32;
    const resF64 = ring.recF64;
    const f = r >> 1;
    const count = t.bundle[slot];
    const kind = t.kind[slot];
    // Into fields, not through arguments: a double crossing a call is a heap number.
    this.bRunMs = resF64[f + RF_RUN_MS] / count;
    this.bLatencyMs = resF64[f + RF_FINISH_TIME] - t.time[slot];
    if (resI32[r + R_STATUS] !== Outcome.Done) {
      this.books.announce(slot, Outcome.Expired);
      this.startBundle(slot, gen, w.index, Outcome.Expired, null);
      return;
    }
    this.kinds.learn(kind, this.bRunMs);
    const off = t.arenaOffset[slot];
    const at = bundleStatusAt(off, count, this.kinds.paramCount[kind], this.kinds.resultCount[kind]);
    const u8 = this.arenaU8;
    let failed = 0;
    for (let i = 0; i < count; i++) if (u8[at + i] !== Outcome.Done) failed++;
    let error: JobError | null = null;
    if (failed > 0) {
      const text = readErrorText(w.block, resI32[r + R_ERR_SEQ]);
      error = new JobError(
        'threw',
        text ? text.message : 'handler threw (error text was overwritten: more than 8 failures between polls)',
        text ? text.stack : '',
        w.index,
      );
    }
    this.books.announce(slot, failed > 0 ? Outcome.Failed : Outcome.Done);
    this.startBundle(slot, gen, w.index, 0, error);
  }

  /** Makes the bundle in `slot` the one being delivered; its bLatencyMs and bRunMs are set by the caller. */
  private startBundle(slot: number, gen: number, worker: number, status: number, error: JobError | null): void {
    this.bSlot = slot;
    this.bGen = gen;
    this.bNext = 0;
    this.bWorker = worker;
    this.bStatus = status;
    this.bError = error;
  }

  /**
   * Delivers up to `max` more jobs of the bundle being delivered, in order, and releases
   * its slot after its last. Returns how many. A job whose handler threw carries the
   * bundle's first error (one JobError for all of them).
   */
  private deliverBundle(onResult: OnResult, max: number): number {
    const t = this.jobs;
    const slot = this.bSlot;
    const count = t.bundle[slot];
    const kind = t.kind[slot];
    const n = this.kinds.paramCount[kind];
    const m = this.kinds.resultCount[kind];
    const off = t.arenaOffset[slot];
    const res = bundleResultsAt(off, count, n) >> 3;
    const st = bundleStatusAt(off, count, n, m);
    const f64 = this.arenaF64;
    const u8 = this.arenaU8;
    const view = this.view;
    const values = view.values;
    const jobId = t.idOf(slot, this.bGen);
    const tag = t.tag[slot];
    const submitFrame = t.frame[slot];
    const deadlineFrame = t.deadline[slot];
    const worker = this.bWorker;
    const uniform = this.bStatus;
    let delivered = 0;
    // One guard for the stretch, as deliver() gives each single job; the slot is released
    // once the last job's callback has run, whether it returned or threw.
    this.delivering = true;
    try {
      while (delivered < max) {
        const i = this.bNext++;
        // Every field, each time: a callback may have written to the view.
        view.jobId = jobId;
        view.kind = kind;
        view.tag = tag;
        view.submitFrame = submitFrame;
        view.deadlineFrame = deadlineFrame;
        view.worker = worker;
        view.item = i;
        view.arenaOffset = -1;
        view.arenaBytes = 0;
        view.latencyMs = this.bLatencyMs;
        view.runMs = this.bRunMs;
        const status = uniform !== 0 ? uniform : u8[st + i] === Outcome.Done ? Outcome.Done : Outcome.Failed;
        view.status = status as Outcome;
        if (status === Outcome.Done) {
          view.valueCount = m;
          view.error = null;
          for (let v = 0; v < m; v++) values[v] = f64[res + i * m + v];
        } else {
          view.valueCount = 0;
          view.error = status === Outcome.Failed ? this.bError : null;
        }
        delivered++;
        // Counted as the game gets it, as a single job is: until then it is in flight.
        this.books.deliveredJob(status as Outcome);
        // Moved on before the callback runs: one that throws never sees a job twice.
        if (this.bNext === count) {
          this.bSlot = -1;
          onResult(view);
          break;
        }
        onResult(view);
      }
    } finally {
      this.delivering = false;
      if (this.bNext === count) t.release(slot);
    }
    return delivered;
  }

  /**
   * Runs the job in `slot` on this thread with the arena slice at `arenaOff` (the job's own,
   * or a private copy) and delivers its outcome. The caller releases the slot, or leaves it
   * held for a worker that is running a twin.
   */
  runOnMain(rt: KindRuntime, slot: number, gen: number, arenaOff: number, onResult: OnResult): void {
    const t = this.jobs;
    const n = rt.params.length;
    const pbase = slot * MAX_PARAMS;
    for (let i = 0; i < n; i++) rt.params[i] = t.params[pbase + i];
    const view = this.view;
    const ctx = rt.ctx;
    ctx.jobId = t.idOf(slot, gen);
    ctx.tag = t.tag[slot];
    ctx.submitFrame = t.frame[slot];
    ctx.arenaOffset = arenaOff;
    ctx.arenaBytes = t.arenaBytes[slot];
    this.fill(slot, gen, -1);
    view.arenaOffset = arenaOff;
    if (this.trace !== null) this.trace.inlineBegin();
    try {
      if (t.range[slot] === 0) {
        ctx.rangeStart = 0;
        ctx.rangeEnd = 1;
        rt.kind.run(rt.params, view.values, ctx);
        view.valueCount = rt.kind.results.length;
      } else {
        // A parallel-for job, every chunk in order on this thread: the same items, the same output.
        const rg = slot * RANGE_WORDS;
        const count = t.ranges[rg + RG_COUNT];
        const grain = t.ranges[rg + RG_GRAIN];
        for (let start = 0; start < count; start += grain) {
          ctx.rangeStart = start;
          ctx.rangeEnd = start + grain > count ? count : start + grain;
          rt.kind.run(rt.params, view.values, ctx);
        }
        view.valueCount = 0;
      }
      view.status = Outcome.Done;
    } catch (err) {
      const d = describeThrown(err);
      view.status = Outcome.Failed;
      view.valueCount = 0;
      view.error = new JobError('threw', d.message, d.stack, -1);
    }
    if (this.trace !== null) this.trace.inlineEnd(slot, gen, view.status === Outcome.Failed);
    // This is the deterministic fallback, taken exactly when a frame is under pressure, so
    // it must not allocate: on Node 20 every clock reading is a new heap number. The clock
    // is read once per CLOCK_EVERY runs; latency can be understated by at most the runs
    // since, and the handler's own run time is not measured here (runMs is NaN).
    if (--this.clockCountdown <= 0) {
      stampAt(this.clock, 0);
      this.clockCountdown = CLOCK_EVERY;
    }
    if (arenaOff >= 0) this.checkGuard(arenaOff);
    view.runMs = Number.NaN;
    const latency = this.clock[0] - t.time[slot];
    view.latencyMs = latency > 0 ? latency : 0;
    this.books.end(slot, view.status);
    this.deliver(onResult, slot, false);
  }

  /** With arena guards on: a job whose handler wrote past its slice `off` fails `arena-overrun`. */
  private checkGuard(off: number): void {
    if (this.arena.guardIntact(off)) return;
    const view = this.view;
    view.status = Outcome.Failed;
    view.valueCount = 0;
    const kind = this.kinds.list[view.kind]?.name ?? String(view.kind);
    view.error = new JobError(
      'arena-overrun',
      `job ${view.jobId} (kind ${JSON.stringify(kind)}) wrote past the end of its arena slice at offset ${off} (${view.arenaBytes} bytes): the guard words after it were overwritten`,
      '',
      view.worker,
    );
  }

  private fill(slot: number, gen: number, worker: number): void {
    const t = this.jobs;
    const view = this.view;
    view.jobId = t.idOf(slot, gen);
    view.kind = t.kind[slot];
    view.tag = t.tag[slot];
    view.submitFrame = t.frame[slot];
    view.deadlineFrame = t.deadline[slot];
    view.worker = worker;
    view.item = 0;
    view.arenaOffset = t.arenaOffset[slot];
    view.arenaBytes = t.arenaBytes[slot];
    view.error = null;
    view.valueCount = 0;
    view.runMs = 0;
  }
}
