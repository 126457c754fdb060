/**
 * EngineCore: one per game. A façade over parts with one job each, in dependency order:
 * Books (every counter; one call ends a job), KindTable (validation, cost estimates),
 * JobTable (slot words, job ids, per-job fields), Dispatcher (worker choice, records,
 * publishing, wake-ups, waiting queues), Collector (result rings, the reused view,
 * callbacks), Supervisor (spawn, heartbeats, recovery, respawn), then Waiting
 * (prerequisites, lanes), Submitter (the submit path), TakeOver (cancel, runInline), Runs
 * (promises) and the trace recorder. No part imports this file.
 *
 * Threads: every method runs on the thread that started the engine (the game loop's
 * thread). None of them blocks: submit, poll, cancel and runInline never wait and, in
 * the steady state, never allocate; shutdown is async and yields to the event loop.
 *
 * Accounting invariant, held by Books and checked by tests and the stress report:
 *   submitted = completed + failed + rejected + expired + cancelled + inFlight
 */
import type { EngineEvent, EngineOptions, EngineStats, ShutdownReport, SubmitOptions, WorkerHealth, WorkerHost } from './api.js';
import { ArenaAllocator } from './arena.js';
import { Books } from './books.js';
import { within } from './clock.js';
import { Collector, type OnResult } from './collector.js';
import { Dispatcher } from './dispatcher.js';
import { EngineError, shownValue } from './errors.js';
import { defaultHost } from './host.js';
import { JobTable, nextIdSalt } from './job-table.js';
import type { JobKind } from './kind.js';
import { cleanupKinds, initKinds, type KindRuntime } from './kind-runtime.js';
import { KindTable } from './kind-table.js';
import { ENGINE_STOPPING, H_CURRENT_FRAME, H_ENGINE_STATE, HEADER_BYTES, RANGE_WORDS, WorkerBlockView, arenaViews, computeLayout, writeHeader, type Layout } from './layout.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { Payloads } from './payloads.js';
import { platform } from '#platform';
import { loadKinds } from './registry.js';
import { EngineState, Supervisor } from './supervisor.js';
import { shutdownEngine, type ShutdownOptions, type ShutdownParts } from './shutdown.js';
import { statsOf } from './stats.js';
import { JobRunner } from './worker-loop.js';
import { WorkerLink } from './worker-link.js';
import { Waiting } from './waiting.js';
import { TakeOver } from './takeover.js';
import { Submitter } from './submitter.js';
import { Runs, type RunOptions, type RunResult } from './runs.js';
import { FrameCadence } from './pacing.js';
import { ResultWaiter } from './result-wait.js';
import { TRACE_READING, TraceRecorder } from './trace-recorder.js';
import { traceFile, traceSnapshotOf, buildTraceEvents, readTraceExportOptions, type TraceEvent, type TraceExportOptions } from './trace-export.js';

export type { ShutdownOptions } from './shutdown.js';

/** How long run()'s pump waits for a worker's result before it looks anyway, ms. */
const RUN_WAKE_TIMEOUT_MS = 100;
const RESULT_NOW: Promise<boolean> = Promise.resolve(true);

export class EngineCore {
  /** The kinds, by id. */
  readonly kinds: readonly JobKind<any>[];
  readonly layout: Layout;
  readonly hostName: string;
  /** Arena views; offsets from arenaAlloc and ResultView.arenaOffset index into them. */
  readonly arenaU8: Uint8Array;
  readonly arenaI32: Int32Array;
  readonly arenaF32: Float32Array;
  readonly arenaF64: Float64Array;

  private readonly opts: ResolvedOptions;
  private readonly sab: SharedArrayBuffer;
  private readonly header: Int32Array;
  /** Stamps each beginFrame into the header, for the lead worker's frame pacing. */
  private readonly cadence: FrameCadence | null;
  private readonly workers: WorkerLink[] = [];
  private readonly arena: ArenaAllocator;
  private readonly payloads: Payloads;
  private readonly books = new Books();
  private readonly kindTable: KindTable;
  private readonly jobs: JobTable;
  private readonly dispatcher: Dispatcher;
  private readonly collector: Collector;
  private readonly waiting: Waiting;
  private readonly runs: Runs;
  private readonly resultWaiter: ResultWaiter;
  private readonly takeOver: TakeOver;
  private readonly submitter: Submitter;
  private readonly supervisor: Supervisor;
  private inlineRunner: JobRunner | null = null;
  private threadsBatched = false;
  private mainKinds: KindRuntime[] = [];
  private shutdownPromise: Promise<ShutdownReport> | null = null;
  /** The job timeline's main-thread recorder (EngineOptions.trace), or null when tracing is off. */
  private readonly trace: TraceRecorder | null = null;

  /** Starts an engine: imports kinds, allocates shared memory, spawns workers and waits for their init. */
  static async start(options?: EngineOptions): Promise<EngineCore> {
    const opts = resolveOptions(options);
    const host = opts.workers > 0 ? (opts.host ?? (await defaultHost())) : null;
    const loaded = await loadKinds(opts.kindModules, opts.kinds);
    const layout = computeLayout({
      workerCount: opts.workers,
      ringCapacity: opts.ringCapacity,
      jobSlots: opts.jobCapacity,
      arenaBytes: opts.arenaBytes,
      heartbeatMs: opts.heartbeatMs,
      traceEvents: opts.traceEvents,
    });
    const engine = new EngineCore(opts, layout, new KindTable(loaded.list, loaded.byName), host);
    await engine.boot();
    return engine;
  }

  private constructor(opts: ResolvedOptions, layout: Layout, kindTable: KindTable, host: WorkerHost | null) {
    this.opts = opts;
    this.layout = layout;
    this.kindTable = kindTable;
    this.kinds = kindTable.list;
    this.hostName = host?.name ?? 'inline';
    // Inline mode shares memory with no other thread, and every Atomics operation it
    // uses works on a plain ArrayBuffer: so a page without cross-origin isolation (no
    // SharedArrayBuffer) still runs the engine, on its own thread.
    this.sab = (
      opts.workers === 0 && typeof SharedArrayBuffer !== 'function' ? new ArrayBuffer(layout.totalBytes) : new SharedArrayBuffer(layout.totalBytes)
    ) as SharedArrayBuffer;
    const salt = nextIdSalt();
    writeHeader(this.sab, layout, salt);
    this.header = new Int32Array(this.sab, 0, HEADER_BYTES / 4);
    this.cadence = opts.framePacing && opts.workers > 0 ? new FrameCadence(new Float64Array(this.sab, 0, HEADER_BYTES / 8)) : null;
    const av = arenaViews(this.sab, layout);
    this.arenaU8 = av.u8;
    this.arenaI32 = av.i32;
    this.arenaF32 = av.f32;
    this.arenaF64 = av.f64;
    this.arena = new ArenaAllocator(layout.arenaBytes, layout.jobSlots, opts.arenaGuards ? av.i32 : null);
    this.payloads = new Payloads(this.arena, kindTable, layout.arenaBytes);
    this.jobs = new JobTable(new Int32Array(this.sab, layout.slotTable, layout.jobSlots), new Int32Array(this.sab, layout.rangeTable, layout.jobSlots * RANGE_WORDS), this.arena, salt);
    for (let i = 0; i < Math.max(1, opts.workers); i++) this.workers.push(new WorkerLink(i, new WorkerBlockView(this.sab, layout, i)));
    const onCorrupt = (w: WorkerLink, what: string): void => this.supervisor.corrupt(w, what);
    this.dispatcher = new Dispatcher(this.workers, this.jobs, kindTable, opts.maxQueueMs, opts.backgroundWorkers, onCorrupt);
    this.dispatcher.cadence = this.cadence;
    this.collector = new Collector(this.workers, this.jobs, kindTable, this.books, this.arena, av, onCorrupt);
    const spawn = host === null ? null : { host, sab: this.sab, kindNames: this.kinds.map((k) => k.name), workerSource: opts.workerSource };
    this.supervisor = new Supervisor(this.workers, opts, spawn, this.jobs, this.books, this.dispatcher, this.collector);
    // Outcomes are passed on only once something waits on them (a prerequisite, a promise).
    const hearEnds = (): void => {
      this.books.onEnd = (slot, outcome) => {
        this.waiting.ended(slot, outcome);
        this.runs.ended(slot, outcome);
      };
    };
    this.waiting = new Waiting(this.jobs, this.dispatcher, this.collector, hearEnds);
    this.submitter = new Submitter(this.books, kindTable, this.jobs, this.payloads, this.dispatcher, this.waiting, this.supervisor, opts.workers, this.arenaF64);
    this.takeOver = new TakeOver(this.jobs, this.dispatcher, this.collector, this.books, this.waiting, this.arena, this.arenaU8);
    this.collector.onTakenEnded = (slot) => this.takeOver.takenEnded(slot);
    this.runs = new Runs(this.jobs, {
      kindId: (name) => this.kindId(name),
      submit: (kind, params, tag, o) => this.submit(kind, params, tag, o),
      cancel: (id) => this.cancel(id),
      collectSettled: () => this.pollSettled(),
      nextResult: () => {
        if (this.inlineRunner !== null) return null;
        if (!this.collector.anyWaiting) return this.resultWaiter.wait(RUN_WAKE_TIMEOUT_MS);
        // Something is waiting: ours (published before we looked) to take now, or only
        // outcomes for the game's poll, which no wake will move: a timer then.
        return this.collector.settledWaiting ? RESULT_NOW : null;
      },
    }, hearEnds);
    this.books.outcomes = this.jobs.outcome;
    this.books.bundles = this.jobs.bundle;
    this.resultWaiter = new ResultWaiter(this.header, this.collector, this.dispatcher, {
      running: () => this.supervisor.state === EngineState.Running,
      inFlight: () => this.inFlight,
      inline: () => this.inlineRunner !== null,
    });
    this.collector.onLostQueued = () => this.resultWaiter.kick();
    if (layout.traceEvents > 0) {
      this.trace = new TraceRecorder(this.sab, layout, this.jobs, this.workers, this.books);
      this.books.trace = this.trace;
      this.collector.trace = this.trace;
    }
  }

  private async boot(): Promise<void> {
    const env = { workerIndex: -1, shared: this.opts.shared, config: this.opts.config };
    const ms = this.opts.initTimeoutMs;
    const timeout = (): EngineError => new EngineError('WORKER_INIT_TIMEOUT', `kind init on the engine's own thread did not finish within ${ms} ms`);
    this.mainKinds = await within(initKinds(this.kinds, env, arenaViews(this.sab, this.layout)), ms, timeout);
    if (this.opts.workers === 0) {
      this.inlineRunner = new JobRunner(this.sab, this.layout, 0, -1, this.mainKinds);
      this.workers[0].life = 'alive';
      this.supervisor.booted = true;
      return;
    }
    try {
      await this.supervisor.boot();
    } catch (err) {
      Atomics.store(this.header, H_ENGINE_STATE, ENGINE_STOPPING);
      cleanupKinds(this.mainKinds);
      throw err;
    }
    if (this.opts.batchThreads) {
      this.threadsBatched = await platform.batchOtherThreads();
      // A respawned worker is a new thread, in the default policy.
      this.supervisor.onRespawned = () => {
        void platform.batchOtherThreads().then((ok) => (this.threadsBatched = ok));
      };
    }
  }

  // ---------------------------------------------------------------- kinds and frames

  /** The numeric id of a kind, for submit. Throws EngineError('UNKNOWN_KIND'). */
  kindId(name: string): number {
    return this.kindTable.id(name);
  }

  /** The engine's shared buffer (layout.ts), for inspection and fault drills. */
  get buffer(): SharedArrayBuffer {
    return this.sab;
  }

  /**
   * The admission budget in ms (EngineOptions.maxQueueMs), adjustable at run time: a
   * game can tighten it for a burst or when frames run long. Throws
   * EngineError('INVALID_OPTION') for a value that is not a positive number.
   */
  get maxQueueMs(): number {
    return this.dispatcher.admissionMs;
  }

  set maxQueueMs(ms: number) {
    if (typeof ms !== 'number' || !(ms > 0)) {
      throw new EngineError('INVALID_OPTION', `maxQueueMs must be a positive number of milliseconds (or Infinity), got ${shownValue(ms)}`);
    }
    this.dispatcher.admissionMs = ms;
  }

  get workerCount(): number {
    return this.opts.workers;
  }

  get frame(): number {
    return this.submitter.frame;
  }

  /**
   * Called for worker lifecycle events (exit, hang, respawn, init failure); a listener that
   * throws is ignored. Setting anything but a function, null or undefined throws
   * EngineError('INVALID_ARGUMENT') and keeps the listener there was.
   */
  get onEvent(): ((e: EngineEvent) => void) | null {
    return this.supervisor.onEvent;
  }

  set onEvent(f: ((e: EngineEvent) => void) | null) {
    if (f !== null && f !== undefined && typeof f !== 'function') {
      throw new EngineError('INVALID_ARGUMENT', `onEvent must be a function or null, got ${shownValue(f)}`);
    }
    this.supervisor.onEvent = f ?? null;
  }

  /**
   * For code with nothing to do until a result comes (a loading screen, a tool, a page
   * between frames): resolves true once poll() has something to deliver (at once if it has
   * now, or on an engine without workers, whose poll runs the jobs), false after
   * `timeoutMs` (default one 30 Hz frame) without that, and false at once when no job is
   * in flight or the engine has stopped. Unlike a loop that polls, the thread waits idle,
   * leaving its core to the workers. Rejects with EngineError('INVALID_ARGUMENT') for a
   * timeout that is not a finite number >= 0. Allocates a promise: not for the frame loop.
   */
  whenResults(timeoutMs: number = 1000 / 30): Promise<boolean> {
    return this.resultWaiter.wait(timeoutMs);
  }

  /**
   * Sets the current frame. Jobs submitted from now on carry it; workers expire jobs whose
   * deadline frame is before it. Throws EngineError('INVALID_ARGUMENT') for a frame that is
   * not a whole number in the int32 range.
   */
  beginFrame(frame: number): void {
    if (typeof frame !== 'number' || (frame | 0) !== frame) {
      throw new EngineError('INVALID_ARGUMENT', `beginFrame() needs a whole frame number in the int32 range, got ${shownValue(frame)}`);
    }
    this.submitter.frame = frame | 0;
    this.submitter.restamp();
    this.dispatcher.flush();
    // ORDERING: a plain publish is enough; a worker reading an older frame only expires a job later.
    Atomics.store(this.header, H_CURRENT_FRAME, frame | 0);
    if (this.cadence !== null) this.cadence.mark();
    if (this.trace !== null) {
      this.trace.beginFrame(frame | 0);
      this.submitter.adoptStamp(this.trace.clock, TRACE_READING);
    }
  }

  // ---------------------------------------------------------------- submit

  /**
   * Queues a job. Returns its id (>= 0) or a negative Rejection code; never throws, and
   * allocates nothing per job beyond one clock reading per 32 submits (submitter.ts).
   * `params` must hold exactly the kind's parameter count of numbers; each is read once.
   */
  submit(kind: number, params: ArrayLike<number>, tag = 0, opts?: SubmitOptions): number {
    return this.submitter.submit(kind, params, tag, opts);
  }

  /**
   * Queues `count` plain jobs of one kind (no options: the kind's deadline and arena slice,
   * the frame lane) in one call: job `j`'s parameters are
   * `params[j * n .. (j + 1) * n)`, `n` being the kind's parameter count, and all carry
   * `tag`. The checks of submit, in order, stopping at the first job refused; the jobs
   * after it are not submitted. Returns how many were accepted (jobs 0 .. that number - 1),
   * or a negative Rejection code when none was. With `ids` (at least `count` long), `ids[j]`
   * receives each accepted job's id, and the refused job's code after the last of them.
   * `params` must be a Float64Array of exactly `count * n` values and `ids` an Int32Array,
   * or the call is refused bad-params. A batch of 0 jobs returns 0 (after shutdown too).
   * Never throws; allocates nothing.
   */
  submitMany(kind: number, params: Float64Array, count: number, ids?: Int32Array, tag = 0): number {
    return this.submitter.submitMany(kind, params, count, ids, tag);
  }

  /**
   * Queues `count` jobs of one kind (1 to 65,536) as one bundle: one record, one job id,
   * one worker, where submitMany sends each job on its own. Job `j`'s parameters are
   * `params[j * n .. (j + 1) * n)`, `n` being the kind's parameter count, each checked as
   * submit checks them (`params` may be longer, a buffer kept for the largest bundle: the
   * values past `count * n` are not read); the bundle is accepted whole or refused whole (a bad value in any
   * job refuses all of them), and the books count it as `count` jobs either way. The
   * worker runs the jobs in order, each with the kind's handler (ctx.rangeStart is its
   * index in the bundle); poll delivers each job's outcome on its own, in order, with
   * ResultView.item its index, all under the bundle's job id. Jobs that expire, are
   * cancelled (cancel takes the bundle's id) or lose their worker do so together; a job
   * whose handler throws fails alone. A dependent (SubmitOptions.after) waits for the
   * whole bundle, and fails `dependency-failed` if any of its jobs failed. Plain jobs
   * only: the kind's deadline, the frame lane, no options; a kind with its own arena
   * slices (arenaBytes) is refused bad-params, and runInline refuses a bundle. The
   * parameters and results travel in an arena slice of `count * (n + m) * 8 + count`
   * bytes (`m`: the kind's result count): arena-full when it does not fit now. Returns
   * the bundle's id or a Rejection code; never throws; allocates nothing.
   */
  submitBundle(kind: number, params: Float64Array, count: number, tag = 0): number {
    return this.submitter.submitBundle(kind, params, count, tag);
  }

  /**
   * One job over the items [0, count) of `kind`, run in chunks of `grain` items (at least 1;
   * default about eight chunks per worker) that the workers claim as they go, so a faster
   * worker takes more; the kind's handler sees each chunk as ctx.rangeStart..rangeEnd and
   * writes its output into the job's arena slice (the kind's arenaBytes, or a caller's).
   * One outcome for the whole range, delivered like any job's (no inline values); the same
   * output with 0, 1, 2 or 4 workers. Takes the submit options; returns the job id or a
   * Rejection code (bad-params for a count outside [0, MAX_RANGE] or a bad grain).
   */
  parallelFor(kind: number, params: ArrayLike<number>, count: number, grain = 0, tag = 0, opts?: SubmitOptions): number {
    return this.submitter.parallelFor(kind, params, count, grain, tag, opts);
  }

  /**
   * One job that stands for all of `jobIds` (up to 8; Unity's CombineDependencies): it ends
   * done once all of them have ended done, and fails `dependency-failed` otherwise. Its id
   * can be named in SubmitOptions.after; its outcome is delivered by poll like any job's
   * (kind `barrier`). Returns its id or a Rejection code, as submit does.
   */
  combine(jobIds: ArrayLike<number>, tag = 0): number {
    return this.submitter.combine(jobIds, tag);
  }

  /** The arena offset of a live job's slice (what a dependent reads), or -1. */
  arenaOffsetOf(jobId: number): number {
    const slot = this.jobs.slotOf(jobId);
    return slot < 0 ? -1 : this.jobs.arenaOffset[slot];
  }

  /** Reserves `bytes` of arena for a payload to pass to submit; -1 if it does not fit now (or `bytes` is not a positive integer). */
  arenaAlloc(bytes: number): number {
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes <= 0 || bytes > this.layout.arenaBytes) return -1;
    return this.arena.alloc(bytes);
  }

  /** Gives back an arena slice that was never submitted. False for a slice a job holds, or an unknown one. */
  arenaFree(offset: number): boolean {
    return typeof offset === 'number' && this.arena.freeUnheld(offset);
  }

  /**
   * Publishes every job submitted so far. poll() and beginFrame() do this themselves;
   * call it after a burst of submits when the next poll is far off.
   */
  flush(): void {
    this.dispatcher.flush();
  }

  // ---------------------------------------------------------------- cancel and take-over

  /** Cancels a job that has not started. True if it was cancelled (its outcome); false if it had started or ended. */
  cancel(jobId: number): boolean {
    return this.takeOver.cancel(jobId);
  }

  /**
   * Deterministic fallback: if job `jobId` has no result yet, runs it now on this thread
   * and hands its result to `onResult` (worker -1); a worker's later result for it is
   * dropped, so the job still has exactly one outcome. A job a worker is running has its
   * arena output written in a copy here; its dependents (SubmitOptions.after) start once
   * that worker is done with it (or gone), and read what `onResult` was given. Returns
   * false when the job has already ended (its result was delivered or is waiting in
   * poll), or is unknown. Throws EngineError('REENTRANT_CALL') from inside a result
   * callback, and INVALID_ARGUMENT for a bundle's id (submitBundle).
   */
  runInline(jobId: number, onResult: OnResult): boolean {
    this.collector.guard('runInline', onResult);
    const slot = this.jobs.slotOf(jobId);
    if (slot >= 0 && this.jobs.bundle[slot] > 0) throw new EngineError('INVALID_ARGUMENT', `runInline() takes a single job; job ${jobId} is a bundle (submitBundle)`);
    return this.takeOver.runInline(jobId, this.mainKinds, onResult);
  }

  // ---------------------------------------------------------------- poll

  /**
   * Delivers finished results to `onResult`, at most `max` of them, and returns how
   * many. With `workers: 0` this is also where queued jobs run. The view passed to
   * onResult is reused: copy what you need; its arena slice is freed after the call.
   * The callback contract (what it may call, what happens when it throws) is in
   * collector.ts; a re-entrant poll throws EngineError('REENTRANT_CALL'), a `max` that is
   * not a number INVALID_ARGUMENT.
   */
  poll(onResult: OnResult, max = Infinity): number {
    this.collector.guard('poll', onResult);
    if (typeof max !== 'number') throw new EngineError('INVALID_ARGUMENT', `poll() max must be a number, got ${typeof max}`);
    // A small integer from here on: a double such as Infinity - delivered, passed to a
    // call that is not inlined, is a new heap number on every poll.
    return this.pollUnguarded(onResult, max >= 0x3fffffff ? 0x3fffffff : max > 0 ? max | 0 : 0);
  }

  /**
   * One job as a promise, for loading screens and tools: resolves with its values, rejects
   * with its JobError, or with EngineError ABORTED / CANCELLED / EXPIRED / REJECTED (runs.ts);
   * options that are not an object, a signal that is not an AbortSignal, or an option whose
   * read throws reject INVALID_ARGUMENT with nothing submitted.
   * Its outcome never reaches a poll callback; the engine polls for it by itself, woken by
   * the worker that publishes it (a 1 ms timer while results for the game's poll wait ahead).
   */
  run(kind: number | string, params: ArrayLike<number>, opts?: RunOptions): Promise<RunResult> {
    return this.runs.run(kind, params, opts);
  }

  /** The engine's own poll for run() promises, from a timer: never inside a callback. */
  private pollSettled(): void {
    if (!this.collector.inCallback && this.supervisor.state !== EngineState.Stopped) this.pollUnguarded(null, 0);
  }

  /** `onResult` null: only run() promises' outcomes (Collector.collectSettled). */
  private pollUnguarded(onResult: OnResult | null, max: number): number {
    if (this.trace === null) return this.pollWork(onResult, max);
    // Trace hook: the poll as a slice on the main thread's track.
    this.trace.pollBegin();
    try {
      return this.pollWork(onResult, max);
    } finally {
      if (this.trace.pollEnd()) this.submitter.adoptStamp(this.trace.clock, TRACE_READING);
    }
  }

  private pollWork(onResult: OnResult | null, max: number): number {
    if (this.dispatcher.waiting > 0) this.dispatcher.dispatchWaiting();
    if (this.inlineRunner !== null && this.supervisor.state !== EngineState.Stopped) this.inlineRunner.drain(0x7fffffff);
    // Heartbeats are checked by the watchdog timer, not here: poll stays clock-free and
    // allocation-free however often a loop spins on it.
    this.submitter.restamp();
    this.dispatcher.flush();
    // Bring the queue estimates up to date, so the next submits go to the worker that is
    // really least loaded: with ties the lowest index wins, and a worker that just ran
    // out of work is still spinning and picks a new job up without a wake-up.
    const ws = this.workers;
    for (let k = 0; k < ws.length; k++) if (ws[k].life === 'alive') this.dispatcher.refreshHead(ws[k]);
    const n = onResult === null ? this.collector.collectSettled() : this.collector.collect(onResult, max);
    if (this.dispatcher.waiting > 0) this.dispatcher.dispatchWaiting();
    return n;
  }

  // ---------------------------------------------------------------- workers, stats, health

  /**
   * Terminates worker `index` as if it had crashed: its running job fails with
   * `worker-lost`, its queued jobs move to other workers, and it is respawned.
   * For chaos tests, the debug panel and fault drills.
   */
  killWorker(index: number): void {
    this.supervisor.kill(index);
  }

  get inFlight(): number {
    return this.books.inFlight;
  }

  /** Times a worker's ring index was found outside its ring; that worker was retired. */
  get corruptRings(): number {
    return this.books.corruptRings;
  }

  /** Result records that named a slot not running that generation (stale or torn); never applied. */
  get staleRecords(): number {
    return this.books.staleRecords;
  }

  /** The engine thread's time in wake-ups of sleeping workers so far, ms (EngineStats.wakes.ms), read without a snapshot. */
  get wakeMs(): number {
    return this.dispatcher.wakes[1];
  }

  /** A snapshot of the counters (allocates: call it per frame at most, not per job). */
  stats(): EngineStats {
    const shown = this.workers.slice(0, Math.max(this.opts.workers, this.inlineRunner ? 1 : 0));
    return statsOf(this.books, shown, this.layout, this.arena.used, this.threadsBatched, this.dispatcher.wakes);
  }

  /** Per worker: alive / stale / dead from its heartbeat slot. Empty with workers: 0. */
  health(): WorkerHealth[] {
    return this.supervisor.health();
  }

  // ---------------------------------------------------------------- job timeline

  /** True when the engine records its job timeline (EngineOptions.trace). */
  get tracing(): boolean {
    return this.trace !== null;
  }

  /**
   * The job timeline as Chrome trace events (trace-export.ts): the last `seconds` of it, or
   * all the trace rings hold. Throws EngineError('TRACE_OFF') when the engine was started
   * without EngineOptions.trace, INVALID_ARGUMENT for bad options. Allocates: call it now
   * and then (a panel redraw, the end of a run), not per frame of a game that must not
   * drop frames. Works after shutdown too.
   */
  traceEvents(options?: TraceExportOptions): TraceEvent[] {
    const snap = traceSnapshotOf(this.trace, this.sab, this.layout, this.kinds);
    return buildTraceEvents(snap, readTraceExportOptions(options)).events;
  }

  /** The job timeline as a JSON file that Perfetto (ui.perfetto.dev) and chrome://tracing open. Same options and errors as traceEvents(). */
  exportTrace(options?: TraceExportOptions): string {
    const snap = traceSnapshotOf(this.trace, this.sab, this.layout, this.kinds);
    return JSON.stringify(traceFile(snap, readTraceExportOptions(options)));
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stops taking jobs, gives in-flight jobs `timeoutMs` (default 2000) to finish,
   * cancels those still queued, fails those still running with reason `shutdown`,
   * stops the workers and reports. Calling it again returns the same report. Allowed
   * from inside a result callback: it starts once that delivery has returned.
   */
  shutdown(options?: ShutdownOptions): Promise<ShutdownReport> {
    if (this.shutdownPromise !== null) return this.shutdownPromise;
    const parts: ShutdownParts = {
      books: this.books,
      jobs: this.jobs,
      dispatcher: this.dispatcher,
      collector: this.collector,
      supervisor: this.supervisor,
      header: this.header,
      threaded: this.inlineRunner === null,
      poll: (sink) => this.pollUnguarded(sink, 0x3fffffff),
      stats: () => this.stats(),
      cleanup: () => cleanupKinds(this.mainKinds),
    };
    try {
      this.shutdownPromise = shutdownEngine(parts, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.shutdownPromise;
  }
}
