/**
 * EngineCore: one per game. Owns the shared buffer (layout.ts), dispatches frame-tagged
 * jobs to per-worker rings, drains results, watches heartbeats, respawns lost workers
 * and accounts for every job.
 *
 * Threads: every method runs on the thread that started the engine (the game loop's
 * thread). None of them blocks: submit, poll, cancel and runInline never wait and, in
 * the steady state, never allocate; shutdown is async and yields to the event loop.
 *
 * Accounting invariant, checked by tests and by the stress report:
 *   submitted = completed + failed + rejected + expired + cancelled + inFlight
 */
import type {
  EngineEvent,
  EngineOptions,
  EngineStats,
  HostedWorker,
  ResultView,
  ShutdownReport,
  SubmitOptions,
  WorkerHealth,
  WorkerHost,
  WorkerSource,
  WorkerState,
} from './api.js';
import { EngineError, JobError, type FailureReason } from './errors.js';
import { defaultHost } from './host.js';
import type { JobKind } from './kind.js';
import { MAX_PARAMS, MAX_RESULTS } from './kind.js';
import { ArenaAllocator } from './arena.js';
import { sharedNow, stampAt } from './clock.js';
import {
  ENGINE_STOPPING,
  GEN_MASK,
  H_CURRENT_FRAME,
  H_ENGINE_STATE,
  HEADER_BYTES,
  HIST_BUCKETS,
  JF_PARAMS,
  JF_SUBMIT_TIME,
  J_ARENA_BYTES,
  J_ARENA_OFFSET,
  J_DEADLINE_FRAME,
  J_GEN,
  J_KIND,
  J_SLOT,
  J_SUBMIT_FRAME,
  J_TAG,
  JOB_HEAD_I,
  JOB_TAIL_I,
  NO_DEADLINE,
  RECORD_I32,
  RES_HEAD_I,
  RES_TAIL_I,
  RF_FINISH_TIME,
  RF_RUN_MS,
  RF_VALUES,
  R_ERR_SEQ,
  R_GEN,
  R_SLOT,
  R_STATUS,
  R_VALUE_COUNT,
  R_WORKER,
  STATE_BITS,
  STATE_MASK,
  S_CANCELLED,
  S_FREE,
  S_QUEUED,
  S_RUNNING,
  S_TAKEN,
  W_BEAT,
  W_CUR_GEN,
  W_CUR_SLOT,
  W_EPOCH,
  W_RETIRE,
  W_JOBS_DONE,
  W_JOBS_FAILED,
  W_SLEEPING,
  W_STATE,
  WS_BUSY,
  WorkerBlockView,
  computeLayout,
  jobIdOf,
  histogramBoundUs,
  writeHeader,
  type Layout,
} from './layout.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { Outcome, Rejection, rejectionName } from './outcome.js';
import { loadKinds, type LoadedKinds } from './registry.js';
import type { WorkerInit, WorkerMessage } from './worker-entry.js';
import { JobRunner, arenaViews, cleanupKinds, initKinds, readErrorText, type KindRuntime } from './worker-loop.js';

const enum Life {
  Starting,
  Alive,
  Dead,
}

const enum EngineState {
  Running,
  Stopping,
  Stopped,
}

/** Main-side bookkeeping for one worker index (it survives respawns). */
class WorkerSlot {
  readonly index: number;
  readonly view: WorkerBlockView;
  /** Estimated ms of each queued record, indexed like the job ring. */
  readonly costRing: Float64Array;
  hosted: HostedWorker | null = null;
  life: Life = Life.Starting;
  deadReason: string | null = null;
  /** Live jobs assigned here whose results main has not yet taken. */
  inflight = 0;
  jobTail = 0;
  /** The job tail as last published to the worker (<= jobTail). */
  published = 0;
  /** Last job head seen, and the queue estimate for records in [headSeen, jobTail). */
  headSeen = 0;
  queuedMs = 0;
  resHead = 0;
  lastBeat = -1;
  lastBeatAt = 0;
  respawns = 0;
  respawnTimes: number[] = [];
  exitReason: FailureReason = 'worker-lost';
  retiring = false;
  /** The worker's beat when it was last notified (see writeRecord). */
  notifiedBeat = -1;
  /** Busy with a silent heartbeat (set by the watchdog): dispatched to only as a last resort. */
  stale = false;
  exited: Promise<void> = Promise.resolve();
  constructor(index: number, view: WorkerBlockView) {
    this.index = index;
    this.view = view;
    this.costRing = new Float64Array(view.capacity);
  }
}

class View implements ResultView {
  jobId = 0;
  kind = 0;
  tag = 0;
  status: Outcome = Outcome.Done;
  submitFrame = 0;
  deadlineFrame = 0;
  worker = 0;
  readonly values = new Float64Array(MAX_RESULTS);
  valueCount = 0;
  arenaOffset = -1;
  arenaBytes = 0;
  error: JobError | null = null;
  latencyMs = 0;
  runMs = 0;
}

/** Starting estimate of a kind's run time before any job of it has been measured. */
const INITIAL_COST_MS = 0.01;
/** Submits that may share one clock reading. */
const STAMP_EVERY = 32;
const COST_ALPHA = 0.05;
const COST_OUTLIER = 4;
/** Queued work (ms) an awake worker takes on before a sleeping one is woken for more. */
const AWAKE_SHARE_MS = 1;
/** Records written before a publish is forced. */
const PUBLISH_BATCH = 16;
/** A worker with fewer published, unread records than this gets each record at once. */
const PUBLISH_LOW_WATER = 32;
const COST_FLOOR_MS = 0.02;

export interface ShutdownOptions {
  /** How long in-flight jobs get to finish, ms. Default 2000. */
  timeoutMs?: number;
  /** Receives results that arrive while shutting down. */
  onResult?: (r: ResultView) => void;
}

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
  /** Called for worker lifecycle events (exit, hang, respawn, init failure). */
  onEvent: ((e: EngineEvent) => void) | null = null;

  private readonly opts: ResolvedOptions;
  private readonly sab: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly slotWords: Int32Array;
  private readonly host: WorkerHost | null;
  private readonly loaded: LoadedKinds;
  private readonly workerUrl: WorkerSource;
  private readonly workers: WorkerSlot[] = [];
  private inlineRunner: JobRunner | null = null;
  private mainKinds: KindRuntime[] = [];
  private readonly arena: ArenaAllocator;
  private readonly view = new View();

  // Per-slot main-thread tables, all sized jobCapacity.
  private readonly slotLive: Uint8Array;
  private readonly slotTaken: Uint8Array;
  /** Set once a main-side failure is queued for the slot, so it is never queued (or delivered) twice. */
  private readonly slotLost: Uint8Array;
  private readonly slotWorker: Int16Array;
  private readonly slotKind: Int16Array;
  private readonly slotTag: Int32Array;
  private readonly slotFrame: Int32Array;
  private readonly slotDeadline: Int32Array;
  private readonly slotRingPos: Int32Array;
  private readonly slotArena: Int32Array;
  private readonly slotArenaBytes: Int32Array;
  private readonly slotTime: Float64Array;
  private readonly slotParams: Float64Array;
  /** Free slots, first-in first-out, so a slot's generation (and its ids) turn over slowly. */
  private readonly freeSlots: Int32Array;
  private freeHead = 0;
  private freeCount = 0;
  private readonly slotBits: number;
  private readonly kindCost: Float64Array;
  private readonly kindParamType: Uint8Array[];
  private readonly kindMin: Float64Array[];
  private readonly kindMax: Float64Array[];
  private readonly scratchMark: Uint8Array;

  // Failures decided on the main thread (worker lost, shutdown), delivered by poll.
  private readonly lostSlots: Int32Array;
  private readonly lostReason: Uint8Array;
  private lostHead = 0;
  private lostTail = 0;

  private state = EngineState.Running;
  private admissionMs: number;
  private readonly clockNow = new Float64Array(1);
  private flushQueued = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  private stampCountdown = 0;
  /** False until every first worker is up: no respawns while start() can still fail. */
  private booted = false;
  private currentFrame = 0;
  private pollStart = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private shutdownPromise: Promise<ShutdownReport> | null = null;

  // Counters.
  private nSubmitted = 0;
  private nCompleted = 0;
  private nFailed = 0;
  private nExpired = 0;
  private nCancelled = 0;
  private nRejected = 0;
  private nInFlight = 0;
  private nRespawns = 0;
  private nStaleRecords = 0;
  private nCorruptRings = 0;
  private readonly rejectedBy = new Float64Array(16);

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
    });
    const engine = new EngineCore(opts, layout, loaded, host);
    await engine.boot();
    return engine;
  }

  private constructor(opts: ResolvedOptions, layout: Layout, loaded: LoadedKinds, host: WorkerHost | null) {
    this.opts = opts;
    this.admissionMs = opts.maxQueueMs;
    this.layout = layout;
    this.loaded = loaded;
    this.kinds = loaded.list;
    this.host = host;
    this.hostName = host?.name ?? 'inline';
    this.workerUrl = opts.workerSource;
    // Inline mode shares memory with no other thread, and every Atomics operation it
    // uses works on a plain ArrayBuffer: so a page without cross-origin isolation (no
    // SharedArrayBuffer) still runs the engine, on its own thread.
    this.sab = (
      opts.workers === 0 && typeof SharedArrayBuffer !== 'function' ? new ArrayBuffer(layout.totalBytes) : new SharedArrayBuffer(layout.totalBytes)
    ) as SharedArrayBuffer;
    writeHeader(this.sab, layout);
    this.header = new Int32Array(this.sab, 0, HEADER_BYTES / 4);
    this.slotWords = new Int32Array(this.sab, layout.slotTable, layout.jobSlots);
    const av = arenaViews(this.sab, layout);
    this.arenaU8 = av.u8;
    this.arenaI32 = av.i32;
    this.arenaF32 = av.f32;
    this.arenaF64 = av.f64;
    this.arena = new ArenaAllocator(layout.arenaBytes, layout.jobSlots);
    const n = layout.jobSlots;
    this.slotLive = new Uint8Array(n);
    this.slotTaken = new Uint8Array(n);
    this.slotLost = new Uint8Array(n);
    this.slotWorker = new Int16Array(n);
    this.slotKind = new Int16Array(n);
    this.slotTag = new Int32Array(n);
    this.slotFrame = new Int32Array(n);
    this.slotDeadline = new Int32Array(n);
    this.slotRingPos = new Int32Array(n);
    this.slotArena = new Int32Array(n).fill(-1);
    this.slotArenaBytes = new Int32Array(n);
    this.slotTime = new Float64Array(n);
    this.slotParams = new Float64Array(n * MAX_PARAMS);
    this.freeSlots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeSlots[i] = i;
    this.freeCount = n;
    this.slotBits = Math.log2(n);
    this.scratchMark = new Uint8Array(n);
    this.lostSlots = new Int32Array(n + 1);
    this.lostReason = new Uint8Array(n + 1);
    this.kindCost = new Float64Array(this.kinds.length).fill(INITIAL_COST_MS);
    this.kindParamType = this.kinds.map((k) => Uint8Array.from(k.params, (p) => (p.type === 'i32' ? 1 : 0)));
    this.kindMin = this.kinds.map((k) => Float64Array.from(k.params, (p) => p.min ?? -Infinity));
    this.kindMax = this.kinds.map((k) => Float64Array.from(k.params, (p) => p.max ?? Infinity));
    for (let i = 0; i < Math.max(1, opts.workers); i++) this.workers.push(new WorkerSlot(i, new WorkerBlockView(this.sab, layout, i)));
  }

  private async boot(): Promise<void> {
    const env = { workerIndex: -1, shared: this.opts.shared, config: this.opts.config };
    this.mainKinds = await initKinds(this.kinds, env, { u8: this.arenaU8, i32: this.arenaI32, f32: this.arenaF32, f64: this.arenaF64 });
    if (this.opts.workers === 0) {
      this.inlineRunner = new JobRunner(this.sab, this.layout, 0, -1, this.mainKinds);
      this.workers[0].life = Life.Alive;
      this.booted = true;
      return;
    }
    const results = await Promise.allSettled(this.workers.map((w) => this.spawn(w)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.state = EngineState.Stopped;
      Atomics.store(this.header, H_ENGINE_STATE, ENGINE_STOPPING);
      await Promise.all(this.workers.map((w) => (w.hosted ? w.hosted.terminate() : undefined)));
      cleanupKinds(this.mainKinds);
      throw failed.reason;
    }
    this.booted = true;
    this.watchdog = setInterval(() => this.checkHealth(sharedNow()), this.opts.heartbeatMs);
    (this.watchdog as { unref?: () => void }).unref?.();
  }

  // ---------------------------------------------------------------- kinds and frames

  /** The numeric id of a kind, for submit. Throws EngineError('UNKNOWN_KIND'). */
  kindId(name: string): number {
    const id = this.loaded.byName.get(name);
    if (id === undefined) throw new EngineError('UNKNOWN_KIND', `no kind named ${JSON.stringify(name)}; registered: ${[...this.loaded.byName.keys()].join(', ')}`);
    return id;
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
    return this.admissionMs;
  }

  set maxQueueMs(ms: number) {
    if (typeof ms !== 'number' || !(ms > 0)) throw new EngineError('INVALID_OPTION', `maxQueueMs must be a positive number of milliseconds (or Infinity), got ${String(ms)}`);
    this.admissionMs = ms;
  }

  get workerCount(): number {
    return this.opts.workers;
  }

  get frame(): number {
    return this.currentFrame;
  }

  /** Sets the current frame. Jobs submitted from now on carry it; workers expire jobs whose deadline frame is before it. */
  beginFrame(frame: number): void {
    this.currentFrame = frame | 0;
    this.stampCountdown = 0;
    this.flush();
    // ORDERING: a plain publish is enough; a worker reading an older frame only expires a job later.
    Atomics.store(this.header, H_CURRENT_FRAME, this.currentFrame);
  }

  // ---------------------------------------------------------------- submit

  /**
   * Queues a job. Returns its id (>= 0) or a negative Rejection code; never throws, and
   * allocates nothing per job beyond one clock reading per STAMP_EVERY submits.
   * `params` must hold exactly the kind's parameter count of numbers.
   */
  submit(kind: number, params: ArrayLike<number>, tag = 0, opts?: SubmitOptions): number {
    this.nSubmitted++;
    if (this.state !== EngineState.Running) return this.reject(Rejection.ShutDown, opts);
    const k = this.kinds[kind];
    if (k === undefined || (kind | 0) !== kind) return this.reject(Rejection.UnknownKind, opts);
    const types = this.kindParamType[kind];
    const n = types.length;
    if (params == null || params.length !== n) return this.reject(Rejection.BadParams, opts);
    const mins = this.kindMin[kind];
    const maxs = this.kindMax[kind];
    for (let i = 0; i < n; i++) {
      const v = params[i];
      if (typeof v !== 'number' || v !== v) return this.reject(Rejection.BadParams, opts);
      if (types[i] === 1 && (v | 0) !== v) return this.reject(Rejection.BadParams, opts);
      if (v < mins[i] || v > maxs[i]) return this.reject(Rejection.BadParams, opts);
    }
    if ((tag | 0) !== tag) return this.reject(Rejection.BadParams, opts);
    // Arena payload: the caller's slice, or what the kind asks for.
    let arenaOff = -1;
    let arenaBytes = 0;
    if (opts !== undefined && opts.arenaOffset !== undefined) {
      arenaOff = opts.arenaOffset;
      arenaBytes = opts.arenaBytes ?? 0;
      if (!this.arena.owns(arenaOff, arenaBytes)) return this.reject(Rejection.BadParams, undefined);
      if (k.maxArenaBytes !== undefined && arenaBytes > k.maxArenaBytes) return this.reject(Rejection.PayloadTooLarge, opts);
    } else if (k.arenaBytes !== undefined) {
      const want = k.arenaBytes(params);
      if (!(want >= 0) || (want | 0) !== want) return this.reject(Rejection.BadParams, opts);
      if (want > this.layout.arenaBytes || (k.maxArenaBytes !== undefined && want > k.maxArenaBytes)) return this.reject(Rejection.PayloadTooLarge, opts);
      if (want > 0) {
        arenaOff = this.arena.alloc(want);
        if (arenaOff < 0) return this.reject(Rejection.ArenaFull, opts);
        arenaBytes = want;
      }
    }
    let deadlineFrames = k.deadlineFrames;
    if (opts !== undefined && opts.deadlineFrames !== undefined) deadlineFrames = opts.deadlineFrames;
    if (deadlineFrames !== undefined && !(deadlineFrames >= 0)) return this.rejectFreeing(Rejection.BadParams, arenaOff);
    if (this.freeCount === 0) return this.rejectFreeing(Rejection.RingFull, arenaOff);
    const w = this.pickWorker(kind);
    if (w === null) return this.rejectFreeing(this.lastPickReason, arenaOff);

    const slot = this.freeSlots[this.freeHead];
    this.freeHead = (this.freeHead + 1) & (this.layout.jobSlots - 1);
    this.freeCount--;
    const gen = (((this.slotWords[slot] >>> STATE_BITS) + 1) & GEN_MASK) >>> 0;
    const deadline = deadlineFrames === undefined ? NO_DEADLINE : Math.min(NO_DEADLINE, this.currentFrame + Math.floor(deadlineFrames));
    const pbase = slot * MAX_PARAMS;
    for (let i = 0; i < n; i++) this.slotParams[pbase + i] = params[i];
    this.slotLive[slot] = 1;
    this.slotTaken[slot] = 0;
    this.slotWorker[slot] = w.index;
    this.slotKind[slot] = kind;
    this.slotTag[slot] = tag;
    this.slotFrame[slot] = this.currentFrame;
    this.slotDeadline[slot] = deadline;
    this.slotArena[slot] = arenaOff;
    this.slotArenaBytes[slot] = arenaBytes;
    // The clock allocates on Node 20 (a boxed number per read), so submits share one
    // reading for up to STAMP_EVERY jobs; poll and beginFrame force a fresh one. A
    // job's submit time can only be early by that much: latency is never understated.
    if (--this.stampCountdown <= 0) {
      stampAt(this.clockNow, 0);
      this.stampCountdown = STAMP_EVERY;
    }
    this.slotTime[slot] = this.clockNow[0];
    // ORDERING: the slot word is QUEUED with the new generation before the record is
    // published, so the worker's claim CAS can only succeed on this submission. A plain
    // store suffices: the release store that publishes the record orders it, and while
    // the slot is free no record can match it, so no CAS races with this write.
    this.slotWords[slot] = (gen << STATE_BITS) | S_QUEUED;
    this.writeRecord(w, slot, gen, -1);
    this.nInFlight++;
    return jobIdOf(slot, gen, this.slotBits);
  }

  /** Cost of the record moveQueued is moving (a field, so no double crosses a call). */
  private movingCost = 0;
  /** Why the last pickWorker returned null. */
  private lastPickReason: Rejection = Rejection.RingFull;

  /**
   * The least-loaded live worker with room, or null (lastPickReason says why).
   * Takes the kind, not its cost: a double crossing a call that is not inlined is boxed.
   */
  private pickWorker(kind: number): WorkerSlot | null {
    const cost = this.kindCost[kind];
    const ws = this.workers;
    const cap = ws[0].view.capacity;
    let best: WorkerSlot | null = null;
    let fallback: WorkerSlot | null = null;
    let awake: WorkerSlot | null = null;
    for (let pass = 0; pass < 2 && best === null; pass++) {
      awake = null;
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i];
        if (w.life === Life.Dead || w.retiring || w.inflight >= cap) continue;
        if (pass === 1 || w.jobTail - w.headSeen >= cap) this.refreshHead(w);
        if (w.jobTail - w.headSeen >= cap) continue;
        if (w.life !== Life.Alive || w.stale) {
          // Starting (respawning) or stuck in a long job: only if nobody else has room.
          if (fallback === null || fallback.queuedMs > w.queuedMs) fallback = w;
          continue;
        }
        if (best === null || w.queuedMs < best.queuedMs) best = w;
        if (w.queuedMs + cost <= AWAKE_SHARE_MS && Atomics.load(w.view.i32, W_SLEEPING) === 0 && (awake === null || w.queuedMs < awake.queuedMs)) awake = w;
      }
      // A small burst stays with a worker that is already awake rather than paying a
      // wake-up for each sleeping one; past AWAKE_SHARE_MS of queued work it spreads.
      if (awake !== null) best = awake;
      // Over budget on cached figures: refresh every head once and look again.
      if (best !== null && best.queuedMs > 0 && best.queuedMs + cost > this.admissionMs && pass === 0) best = null;
    }
    if (best === null) best = fallback;
    if (best === null) {
      this.lastPickReason = Rejection.RingFull;
      return null;
    }
    if (best.queuedMs > 0 && best.queuedMs + cost > this.admissionMs) {
      this.lastPickReason = Rejection.Overloaded;
      return null;
    }
    return best;
  }

  /** Takes the worker's consumed records off its queue estimate. */
  private refreshHead(w: WorkerSlot): void {
    const head = Atomics.load(w.view.i32, JOB_HEAD_I);
    const mask = w.view.mask;
    if (!inRing(w.headSeen, head, w.view.capacity) || !inRing(head, w.jobTail, w.view.capacity)) {
      this.corrupt(w, 'job head out of range');
      return;
    }
    for (let p = w.headSeen; p !== head; p = (p + 1) | 0) {
      w.queuedMs -= w.costRing[p & mask];
      w.costRing[p & mask] = 0;
    }
    if (w.queuedMs < 1e-9) w.queuedMs = 0;
    w.headSeen = head;
  }

  /** `from` >= 0 moves a queued record (its cost comes along); -1 is a new job. */
  private writeRecord(w: WorkerSlot, slot: number, gen: number, from: number): void {
    const v = w.view;
    const pos = w.jobTail;
    const r = (pos & v.mask) * RECORD_I32;
    const i32 = v.jobI32;
    i32[r + J_KIND] = this.slotKind[slot];
    i32[r + J_SLOT] = slot;
    i32[r + J_GEN] = gen;
    i32[r + J_TAG] = this.slotTag[slot];
    i32[r + J_SUBMIT_FRAME] = this.slotFrame[slot];
    i32[r + J_DEADLINE_FRAME] = this.slotDeadline[slot];
    i32[r + J_ARENA_OFFSET] = this.slotArena[slot];
    i32[r + J_ARENA_BYTES] = this.slotArenaBytes[slot];
    const f = r >> 1;
    v.jobF64[f + JF_SUBMIT_TIME] = this.slotTime[slot];
    const n = this.kindParamType[this.slotKind[slot]].length;
    const pbase = slot * MAX_PARAMS;
    for (let i = 0; i < n; i++) v.jobF64[f + JF_PARAMS + i] = this.slotParams[pbase + i];
    const cost = from < 0 ? this.kindCost[this.slotKind[slot]] : this.movingCost;
    w.costRing[pos & v.mask] = cost;
    w.queuedMs += cost;
    w.inflight++;
    this.slotRingPos[slot] = pos;
    w.jobTail = (pos + 1) | 0;
    // Publishing is a fenced store on a line the worker polls, the dearest step of a
    // submit, so records are published in batches while the worker has a backlog to chew
    // on; when its visible backlog runs low it is published at once. Whatever is left
    // goes out at the next poll, beginFrame or flush, or when the current task ends
    // (one microtask per burst): never later than the tick that submitted it.
    // The backlog is judged from the head seen at the last poll: it can only be larger
    // than the truth, and the batch limit bounds what that can hold back.
    if (from < 0 && w.jobTail - w.published < PUBLISH_BATCH && w.published - w.headSeen >= PUBLISH_LOW_WATER) {
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this.flushTask);
      }
      return;
    }
    this.publish(w);
  }

  /** Publishes every record written for `w`, and wakes it if it sleeps. */
  private publish(w: WorkerSlot): void {
    const v = w.view;
    w.published = w.jobTail;
    // ORDERING: release store of the tail after the records' words; the worker's acquire
    // load of the tail sees every record. Then SLEEPING is read (seq-cst): if the
    // worker went to sleep before seeing this tail, we see SLEEPING = 1 and wake it.
    Atomics.store(v.i32, JOB_TAIL_I, w.jobTail);
    if (Atomics.load(v.i32, W_SLEEPING) === 1 && !this.someoneAwake(w)) {
      // A wake-up costs tens of microseconds on the waker's thread, so this thread wakes
      // a worker only when no other worker is awake or already being woken (an awake
      // worker wakes its sleeping siblings that have work: JobRunner.wakeSiblings), and
      // at most once per sleep: a worker's beat moves each time it wakes, and until it
      // has moved past the beat read before our notify, that notify is on its way. The
      // beat is read before notifying, so a wake landing in between hides no later sleep.
      const beat = Atomics.load(v.i32, W_BEAT);
      if (beat !== w.notifiedBeat) {
        w.notifiedBeat = beat;
        Atomics.notify(v.i32, JOB_TAIL_I, 1);
      }
    }
  }

  /**
   * Publishes every job submitted so far. poll() and beginFrame() do this themselves;
   * call it after a burst of submits when the next poll is far off.
   */
  flush(): void {
    const ws = this.workers;
    for (let i = 0; i < ws.length; i++) if (ws[i].published !== ws[i].jobTail) this.publish(ws[i]);
  }

  /**
   * True if a live worker other than `w` is awake between jobs, or has a wake-up from us
   * on its way: it will look at `w`'s ring before its next job or sleep, and wake `w`.
   * ORDERING: called after `w`'s tail was stored; a worker stores its state (BUSY, or
   * SLEEPING) before it scans its siblings' tails, so either we see it idle and awake
   * here and its scan sees our tail, or we see it busy or asleep and wake `w` ourselves.
   */
  private someoneAwake(w: WorkerSlot): boolean {
    const ws = this.workers;
    for (let i = 0; i < ws.length; i++) {
      const x = ws[i];
      if (x === w || x.life !== Life.Alive || x.retiring) continue;
      const i32 = x.view.i32;
      // Awake and between jobs (it scans before its next job or its next sleep), or
      // being woken by us (it scans on waking). A worker inside a job may not look for
      // a long time, so it does not count.
      if (Atomics.load(i32, W_SLEEPING) === 0 ? Atomics.load(i32, W_STATE) !== WS_BUSY : Atomics.load(i32, W_BEAT) === x.notifiedBeat) return true;
    }
    return false;
  }

  private reject(code: Rejection, opts: SubmitOptions | undefined): number {
    // A caller-provided slice belongs to the engine once submitted, accepted or not.
    if (opts !== undefined && opts.arenaOffset !== undefined) this.arena.free(opts.arenaOffset);
    this.nRejected++;
    this.rejectedBy[-code]++;
    return code;
  }

  private rejectFreeing(code: Rejection, arenaOff: number): number {
    if (arenaOff >= 0) this.arena.free(arenaOff);
    this.nRejected++;
    this.rejectedBy[-code]++;
    return code;
  }

  /** Reserves `bytes` of arena for a payload to pass to submit; -1 if it does not fit now. */
  arenaAlloc(bytes: number): number {
    if (!(bytes > 0) || bytes > this.layout.arenaBytes) return -1;
    return this.arena.alloc(bytes);
  }

  /** Gives back an arena slice that was never submitted. */
  arenaFree(offset: number): boolean {
    return this.arena.free(offset);
  }

  // ---------------------------------------------------------------- cancel and take-over

  private slotOf(jobId: number): number {
    if (typeof jobId !== 'number' || !(jobId >= 0) || (jobId | 0) !== jobId) return -1;
    const slot = jobId & (this.layout.jobSlots - 1);
    if (this.slotLive[slot] === 0 || jobIdOf(slot, this.slotWords[slot] >>> STATE_BITS, this.slotBits) !== jobId) return -1;
    return slot;
  }

  /** Cancels a job that has not started. True if it was cancelled (its outcome); false if it had started or ended. */
  cancel(jobId: number): boolean {
    const slot = this.slotOf(jobId);
    if (slot < 0 || this.slotTaken[slot] === 1) return false;
    const word = this.slotWords[slot];
    if ((word & STATE_MASK) !== S_QUEUED) return false;
    // ORDERING: same word the worker claims with CAS(QUEUED -> RUNNING): one side wins.
    if (Atomics.compareExchange(this.slotWords, slot, word, (word & ~STATE_MASK) | S_CANCELLED) !== word) return false;
    this.nCancelled++;
    this.nInFlight--;
    this.unqueue(slot);
    this.release(slot);
    return true;
  }

  /**
   * Deterministic fallback: if job `jobId` has no result yet, runs it now on this thread
   * and hands its result to `onResult` (worker -1); a worker's later result for it is
   * dropped, so the job still has exactly one outcome. Returns false when the job has
   * already ended (its result was delivered or is waiting in poll), or is unknown.
   */
  runInline(jobId: number, onResult: (r: ResultView) => void): boolean {
    const slot = this.slotOf(jobId);
    if (slot < 0 || this.slotTaken[slot] === 1) return false;
    const word = this.slotWords[slot];
    const st = word & STATE_MASK;
    if (st === S_QUEUED) {
      if (Atomics.compareExchange(this.slotWords, slot, word, (word & ~STATE_MASK) | S_TAKEN) !== word) return this.runInline(jobId, onResult);
      this.unqueue(slot);
      this.runOnMain(slot, word >>> STATE_BITS, this.slotArena[slot], onResult);
      this.release(slot);
      return true;
    }
    if (st !== S_RUNNING) return false;
    // A worker holds it: run a twin in a private copy of its arena slice, since the
    // worker may be writing the original right now.
    let off = this.slotArena[slot];
    if (off >= 0) {
      const bytes = this.slotArenaBytes[slot];
      const copy = this.arena.alloc(bytes);
      if (copy < 0) return false;
      this.arenaU8.copyWithin(copy, off, off + bytes);
      off = copy;
    }
    this.slotTaken[slot] = 1;
    this.runOnMain(slot, word >>> STATE_BITS, off, onResult);
    if (off >= 0) this.arena.free(off);
    return true;
  }

  private runOnMain(slot: number, gen: number, arenaOff: number, onResult: (r: ResultView) => void): void {
    const kind = this.slotKind[slot];
    const rt = this.mainKinds[kind];
    const n = rt.params.length;
    for (let i = 0; i < n; i++) rt.params[i] = this.slotParams[slot * MAX_PARAMS + i];
    const view = this.view;
    const ctx = rt.ctx;
    ctx.jobId = jobIdOf(slot, gen, this.slotBits);
    ctx.tag = this.slotTag[slot];
    ctx.submitFrame = this.slotFrame[slot];
    ctx.arenaOffset = arenaOff;
    ctx.arenaBytes = this.slotArenaBytes[slot];
    this.fillCommon(slot, gen, -1);
    view.arenaOffset = arenaOff;
    const t0 = sharedNow();
    try {
      rt.kind.run(rt.params, view.values, ctx);
      view.status = Outcome.Done;
      view.valueCount = rt.kind.results.length;
      this.nCompleted++;
    } catch (err) {
      const e = err as { message?: unknown; stack?: unknown };
      view.status = Outcome.Failed;
      view.valueCount = 0;
      view.error = new JobError('threw', typeof e?.message === 'string' ? e.message : String(err), typeof e?.stack === 'string' ? e.stack : '', -1);
      this.nFailed++;
    }
    const t1 = sharedNow();
    view.runMs = t1 - t0;
    view.latencyMs = t1 - this.slotTime[slot];
    this.nInFlight--;
    onResult(view);
  }

  private fillCommon(slot: number, gen: number, worker: number): void {
    const view = this.view;
    view.jobId = jobIdOf(slot, gen, this.slotBits);
    view.kind = this.slotKind[slot];
    view.tag = this.slotTag[slot];
    view.submitFrame = this.slotFrame[slot];
    view.deadlineFrame = this.slotDeadline[slot];
    view.worker = worker;
    view.arenaOffset = this.slotArena[slot];
    view.arenaBytes = this.slotArenaBytes[slot];
    view.error = null;
    view.valueCount = 0;
    view.runMs = 0;
  }

  /** Takes a still-queued job's record off its worker's queue estimate (the worker will skip it). */
  private unqueue(slot: number): void {
    const w = this.workers[this.slotWorker[slot]];
    const p = this.slotRingPos[slot] & w.view.mask;
    w.queuedMs -= w.costRing[p];
    if (w.queuedMs < 1e-9) w.queuedMs = 0;
    w.costRing[p] = 0;
    w.inflight--;
  }

  /** Frees a slot main has finished with (its word is no longer QUEUED or RUNNING for that generation). */
  private release(slot: number): void {
    const off = this.slotArena[slot];
    if (off >= 0) this.arena.free(off);
    this.slotArena[slot] = -1;
    this.slotLive[slot] = 0;
    this.slotTaken[slot] = 0;
    this.slotLost[slot] = 0;
    const word = this.slotWords[slot];
    // ORDERING: FREE keeps the generation; a stale record can no longer match QUEUED or RUNNING.
    Atomics.store(this.slotWords, slot, (word & ~STATE_MASK) | S_FREE);
    this.freeSlots[(this.freeHead + this.freeCount) & (this.layout.jobSlots - 1)] = slot;
    this.freeCount++;
  }

  // ---------------------------------------------------------------- poll

  /**
   * Delivers finished results to `onResult`, at most `max` of them, and returns how
   * many. With `workers: 0` this is also where queued jobs run. The view passed to
   * onResult is reused: copy what you need; its arena slice is freed after the call.
   */
  poll(onResult: (r: ResultView) => void, max = Infinity): number {
    if (this.inlineRunner !== null && this.state !== EngineState.Stopped) this.inlineRunner.drain(0x7fffffff);
    // Heartbeats are checked by the watchdog timer, not here: poll stays clock-free and
    // allocation-free however often a loop spins on it.
    this.stampCountdown = 0;
    this.flush();
    let delivered = 0;
    while (this.lostHead !== this.lostTail && delivered < max) {
      this.deliverLost(onResult);
      delivered++;
    }
    const ws = this.workers;
    const nw = ws.length;
    // Bring the queue estimates up to date, so the next submits go to the worker that is
    // really least loaded: with ties the lowest index wins, and a worker that just ran
    // out of work is still spinning and picks a new job up without a wake-up.
    for (let k = 0; k < nw; k++) if (ws[k].life === Life.Alive) this.refreshHead(ws[k]);
    for (let k = 0; k < nw && delivered < max; k++) {
      delivered += this.drainWorker(ws[(this.pollStart + k) % nw], onResult, max - delivered);
    }
    this.pollStart = (this.pollStart + 1) % nw;
    return delivered;
  }

  private drainWorker(w: WorkerSlot, onResult: (r: ResultView) => void, max: number): number {
    const v = w.view;
    // ORDERING: acquire load of the result tail pairs with the worker's release store.
    const tail = Atomics.load(v.i32, RES_TAIL_I);
    let head = w.resHead;
    if (head === tail) return 0;
    if (!inRing(head, tail, v.capacity)) {
      this.corrupt(w, 'result tail out of range');
      return 0;
    }
    const mask = v.mask;
    const resI32 = v.resI32;
    const resF64 = v.resF64;
    const view = this.view;
    let delivered = 0;
    try {
      while (head !== tail && delivered < max) {
        const r = (head & mask) * RECORD_I32;
        const f = r >> 1;
        head = (head + 1) | 0;
        const slot = resI32[r + R_SLOT];
        const gen = resI32[r + R_GEN];
        if (slot < 0 || slot >= this.layout.jobSlots || this.slotWords[slot] !== ((gen << STATE_BITS) | S_RUNNING) || this.slotLive[slot] === 0 || this.slotLost[slot] === 1 || this.slotWorker[slot] !== w.index) {
          // A record for a slot that is not running that generation on this worker: stale,
          // torn or foreign. Never applied.
          this.nStaleRecords++;
          continue;
        }
        w.inflight--;
        if (this.slotTaken[slot] === 1) {
          // Its outcome was already delivered by runInline.
          this.release(slot);
          continue;
        }
        this.fillCommon(slot, gen, resI32[r + R_WORKER]);
        const status = resI32[r + R_STATUS] as Outcome;
        view.status = status;
        const count = resI32[r + R_VALUE_COUNT];
        view.valueCount = count;
        for (let i = 0; i < count; i++) view.values[i] = resF64[f + RF_VALUES + i];
        const runMs = resF64[f + RF_RUN_MS];
        view.runMs = runMs;
        view.latencyMs = resF64[f + RF_FINISH_TIME] - this.slotTime[slot];
        if (status === Outcome.Done) {
          this.nCompleted++;
          // Each sample is clamped to a few times the current estimate: one slow outlier
          // (a cold worker, a preempted thread) must not make a kind look so expensive
          // that admission refuses it for good.
          const kind = view.kind;
          const est = this.kindCost[kind];
          const cap = est * COST_OUTLIER + COST_FLOOR_MS;
          this.kindCost[kind] = est + ((runMs > cap ? cap : runMs) - est) * COST_ALPHA;
        } else if (status === Outcome.Failed) {
          this.nFailed++;
          const text = readErrorText(v, resI32[r + R_ERR_SEQ]);
          view.error = new JobError(
            'threw',
            text ? text.message : 'handler threw (error text was overwritten: more than 8 failures between polls)',
            text ? text.stack : '',
            w.index,
          );
        } else {
          this.nExpired++;
        }
        this.nInFlight--;
        delivered++;
        onResult(view);
        this.release(slot);
      }
    } finally {
      w.resHead = head;
      // ORDERING: result records are read in full before their slots are handed back.
      Atomics.store(v.i32, RES_HEAD_I, head);
    }
    return delivered;
  }

  private deliverLost(onResult: (r: ResultView) => void): void {
    const i = this.lostHead;
    this.lostHead = (i + 1) % this.lostSlots.length;
    const slot = this.lostSlots[i];
    const reason = LOST_REASONS[this.lostReason[i]];
    const gen = this.slotWords[slot] >>> STATE_BITS;
    const worker = this.slotWorker[slot];
    this.fillCommon(slot, gen, worker);
    this.view.status = Outcome.Failed;
    this.view.latencyMs = sharedNow() - this.slotTime[slot];
    this.view.error = new JobError(reason, `job ${this.view.jobId} failed: ${reason} (worker ${worker})`, '', worker);
    this.nFailed++;
    this.nInFlight--;
    try {
      onResult(this.view);
    } finally {
      this.release(slot);
    }
  }

  private queueLost(slot: number, reason: FailureReason): void {
    if (this.slotLost[slot] === 1) return;
    this.slotLost[slot] = 1;
    this.lostSlots[this.lostTail] = slot;
    this.lostReason[this.lostTail] = LOST_REASONS.indexOf(reason);
    this.lostTail = (this.lostTail + 1) % this.lostSlots.length;
  }

  // ---------------------------------------------------------------- workers: spawn, health, recovery

  private spawn(w: WorkerSlot): Promise<void> {
    const host = this.host!;
    w.life = Life.Starting;
    w.retiring = false;
    w.stale = false;
    w.deadReason = null;
    w.exitReason = 'worker-lost';
    Atomics.store(w.view.i32, W_EPOCH, w.respawns);
    Atomics.store(w.view.i32, W_RETIRE, 0);
    Atomics.store(w.view.i32, W_STATE, 0);
    Atomics.store(w.view.i32, W_CUR_SLOT, -1);
    const init: WorkerInit = {
      type: 'framejobs-init',
      sab: this.sab,
      workerIndex: w.index,
      kindModules: this.opts.kindModules,
      kindNames: this.kinds.map((k) => k.name),
      shared: this.opts.shared,
      config: this.opts.config,
      nice: this.opts.workerNice,
    };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.emit({ type: 'worker-init-timeout', worker: w.index, timeoutMs: this.opts.initTimeoutMs });
        w.deadReason = 'init-timeout';
        w.retiring = true;
        void hosted.terminate();
        reject(new EngineError('WORKER_INIT_TIMEOUT', `worker ${w.index} did not finish init within ${this.opts.initTimeoutMs} ms`));
      }, this.opts.initTimeoutMs);
      let exitResolve: () => void = () => {};
      w.exited = new Promise<void>((r) => (exitResolve = r));
      const hosted = host.spawn(
        this.workerUrl,
        init,
        {
          onMessage: (data: unknown) => {
            const m = data as WorkerMessage;
            if (m?.type === 'ready' && !settled) {
              settled = true;
              clearTimeout(timer);
              w.life = Life.Alive;
              w.lastBeat = Atomics.load(w.view.i32, W_BEAT);
              w.lastBeatAt = sharedNow();
              resolve();
            } else if (m?.type === 'init-error' && !settled) {
              settled = true;
              clearTimeout(timer);
              w.deadReason = 'init-failed';
              this.emit({ type: 'worker-init-failed', worker: w.index, message: m.message });
              const code = m.code === 'LAYOUT_MISMATCH' ? 'LAYOUT_MISMATCH' : 'WORKER_INIT_FAILED';
              reject(new EngineError(code, `worker ${w.index} failed to initialise: ${m.message}`));
            }
          },
          onError: (message: string) => {
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              w.deadReason = 'init-failed';
              this.emit({ type: 'worker-init-failed', worker: w.index, message });
              reject(new EngineError('WORKER_INIT_FAILED', `worker ${w.index} failed to initialise: ${message}`));
            }
          },
          onExit: (exitCode: number, reason: string) => {
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              w.deadReason = 'init-failed';
              reject(new EngineError('WORKER_INIT_FAILED', `worker ${w.index} exited with code ${exitCode} during init`));
            }
            if (w.hosted === hosted) this.onWorkerExit(w, exitCode, reason);
            exitResolve();
          },
        },
        this.opts.resourceLimits,
      );
      w.hosted = hosted;
    });
  }

  /** Heartbeat check; runs from poll() and from a timer, so a hang is seen even if the loop stops polling. */
  private checkHealth(t: number): void {
    if (this.state !== EngineState.Running || this.host === null) return;
    for (const w of this.workers) {
      if (w.life !== Life.Alive || w.retiring) continue;
      const beat = Atomics.load(w.view.i32, W_BEAT);
      if (beat !== w.lastBeat) {
        w.lastBeat = beat;
        w.lastBeatAt = t;
        w.stale = false;
        continue;
      }
      const silent = t - w.lastBeatAt;
      w.stale = silent >= this.opts.staleMs && Atomics.load(w.view.i32, W_STATE) === WS_BUSY;
      if (silent >= this.opts.hangTimeoutMs && Atomics.load(w.view.i32, W_STATE) === WS_BUSY) {
        const slot = Atomics.load(w.view.i32, W_CUR_SLOT);
        const gen = Atomics.load(w.view.i32, W_CUR_GEN);
        this.emit({ type: 'worker-hung', worker: w.index, jobId: slot >= 0 ? jobIdOf(slot, gen, this.slotBits) : -1, silentMs: silent });
        this.retire(w, 'hung');
      }
    }
  }

  private retire(w: WorkerSlot, reason: string): void {
    if (w.retiring || w.hosted === null) return;
    w.retiring = true;
    w.deadReason = reason;
    // ORDERING: a worker between jobs sees RETIRE and stops touching its rings at once;
    // recovery still waits for the host to report the thread gone.
    Atomics.store(w.view.i32, W_RETIRE, 1);
    Atomics.notify(w.view.i32, JOB_TAIL_I);
    void w.hosted.terminate();
  }

  /**
   * A ring index outside its ring means the worker wrote something it should not have:
   * nothing more is read from it, and it is retired and respawned like a crashed one.
   */
  private corrupt(w: WorkerSlot, what: string): void {
    this.nCorruptRings++;
    if (w.life === Life.Alive) this.retire(w, `corrupt ring: ${what}`);
  }

  /**
   * Terminates worker `index` as if it had crashed: its running job fails with
   * `worker-lost`, its queued jobs move to other workers, and it is respawned.
   * For chaos tests, the debug panel and fault drills.
   */
  killWorker(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.opts.workers) {
      throw new EngineError('INVALID_OPTION', `killWorker: worker index must be an integer in [0, ${this.opts.workers - 1}], got ${index}`);
    }
    const w = this.workers[index];
    if (w.life === Life.Alive) this.retire(w, 'killed');
  }

  private onWorkerExit(w: WorkerSlot, exitCode: number, hostReason: string): void {
    const wasAlive = w.life === Life.Alive;
    w.life = Life.Dead;
    w.hosted = null;
    const reason = w.deadReason ?? (hostReason === 'out-of-memory' ? 'out-of-memory' : hostReason);
    w.deadReason = reason;
    const lostReason: FailureReason =
      this.state !== EngineState.Running ? 'shutdown' : hostReason === 'out-of-memory' ? 'worker-out-of-memory' : 'worker-lost';
    if (this.state === EngineState.Stopped) return;
    if (hostReason === 'out-of-memory') {
      const slot = Atomics.load(w.view.i32, W_CUR_SLOT);
      const gen = Atomics.load(w.view.i32, W_CUR_GEN);
      this.emit({ type: 'worker-out-of-memory', worker: w.index, jobId: slot >= 0 ? jobIdOf(slot, gen, this.slotBits) : -1 });
    }
    if (this.state === EngineState.Running || exitCode !== 0) this.emit({ type: 'worker-exit', worker: w.index, exitCode, reason });
    this.recover(w, lostReason);
    if (this.booted && this.state === EngineState.Running && (wasAlive || reason === 'init-timeout' || reason === 'init-failed')) this.scheduleRespawn(w);
  }

  /** Accounts for a dead worker's jobs: published results stay for poll, claimed ones fail, queued ones move. */
  private recover(w: WorkerSlot, reason: FailureReason): void {
    const v = w.view;
    // Records written but not yet published belong to the ring like the rest.
    w.published = w.jobTail;
    Atomics.store(v.i32, JOB_TAIL_I, w.jobTail);
    const mask = v.mask;
    const mark = this.scratchMark;
    let resTail = Atomics.load(v.i32, RES_TAIL_I);
    if (!inRing(w.resHead, resTail, v.capacity)) {
      // A dead worker's indices are not trusted past its ring: nothing it published is read.
      resTail = w.resHead;
      Atomics.store(v.i32, RES_TAIL_I, resTail);
    }
    for (let p = w.resHead; p !== resTail; p = (p + 1) | 0) {
      const s = v.resI32[(p & mask) * RECORD_I32 + R_SLOT];
      if (s >= 0 && s < mark.length) mark[s] = 1;
    }
    const n = this.layout.jobSlots;
    for (let slot = 0; slot < n; slot++) {
      if (this.slotLive[slot] === 0 || this.slotWorker[slot] !== w.index) continue;
      const st = this.slotWords[slot] & STATE_MASK;
      if (st !== S_RUNNING || mark[slot] === 1 || this.slotLost[slot] === 1) continue;
      w.inflight--;
      if (this.slotTaken[slot] === 1) {
        this.release(slot);
      } else {
        this.queueLost(slot, reason);
      }
    }
    for (let p = w.resHead; p !== resTail; p = (p + 1) | 0) {
      const s = v.resI32[(p & mask) * RECORD_I32 + R_SLOT];
      if (s >= 0 && s < mark.length) mark[s] = 0;
    }
    if (this.state === EngineState.Running) this.moveQueued(w);
  }

  /** Moves a dead worker's unclaimed records to live workers, all or none, keeping their order. */
  private moveQueued(dead: WorkerSlot): void {
    const v = dead.view;
    const head = Atomics.load(v.i32, JOB_HEAD_I);
    if (!inRing(head, dead.jobTail, v.capacity)) return;
    let movable = 0;
    for (let p = head; p !== dead.jobTail; p = (p + 1) | 0) {
      const r = (p & v.mask) * RECORD_I32;
      const slot = v.jobI32[r + J_SLOT];
      const gen = v.jobI32[r + J_GEN];
      if (this.slotWords[slot] === ((gen << STATE_BITS) | S_QUEUED) && this.slotWorker[slot] === dead.index) movable++;
    }
    let room = 0;
    for (const w of this.workers) {
      if (w === dead || w.life !== Life.Alive || w.retiring) continue;
      this.refreshHead(w);
      room += Math.min(w.view.capacity - (w.jobTail - w.headSeen), w.view.capacity - w.inflight);
    }
    if (movable === 0 || room < movable) return;
    for (let p = head; p !== dead.jobTail; p = (p + 1) | 0) {
      const r = (p & v.mask) * RECORD_I32;
      const slot = v.jobI32[r + J_SLOT];
      const gen = v.jobI32[r + J_GEN];
      if (this.slotWords[slot] !== ((gen << STATE_BITS) | S_QUEUED) || this.slotWorker[slot] !== dead.index) continue;
      this.movingCost = dead.costRing[p & v.mask];
      dead.costRing[p & v.mask] = 0;
      dead.inflight--;
      let target: WorkerSlot | null = null;
      for (const w of this.workers) {
        if (w === dead || w.life !== Life.Alive || w.retiring) continue;
        if (w.jobTail - w.headSeen >= w.view.capacity || w.inflight >= w.view.capacity) continue;
        if (target === null || w.queuedMs < target.queuedMs) target = w;
      }
      if (target === null) break;
      this.slotWorker[slot] = target.index;
      this.writeRecord(target, slot, gen, p);
    }
    dead.queuedMs = 0;
    // Nobody reads this ring while its worker is dead: main may move its head.
    dead.headSeen = dead.jobTail;
    Atomics.store(v.i32, JOB_HEAD_I, dead.jobTail);
  }

  private scheduleRespawn(w: WorkerSlot): void {
    const t = sharedNow();
    w.respawnTimes = w.respawnTimes.filter((x) => t - x < 60_000);
    if (w.respawnTimes.length >= this.opts.maxRespawnsPerMinute) {
      w.deadReason = `${w.deadReason ?? 'dead'}; respawn limit reached`;
      return;
    }
    w.respawnTimes.push(t);
    w.respawns++;
    this.nRespawns++;
    this.spawn(w).then(
      () => this.emit({ type: 'worker-respawned', worker: w.index, respawns: w.respawns }),
      () => {
        // Init failures are reported through events; the exit handler retries within the limit.
      },
    );
  }

  private emit(e: EngineEvent): void {
    try {
      this.onEvent?.(e);
    } catch {
      // A throwing listener must not break recovery.
    }
  }

  // ---------------------------------------------------------------- stats and health

  get inFlight(): number {
    return this.nInFlight;
  }

  /** A snapshot of the counters (allocates: call it per frame at most, not per job). */
  stats(): EngineStats {
    const counts = new Array<number>(HIST_BUCKETS).fill(0);
    let queueOcc = 0;
    let resOcc = 0;
    const perWorker = this.workers.slice(0, Math.max(this.opts.workers, this.inlineRunner ? 1 : 0)).map((w) => {
      for (let b = 0; b < HIST_BUCKETS; b++) counts[b] += Atomics.load(w.view.hist, b);
      const q = w.jobTail - Atomics.load(w.view.i32, JOB_HEAD_I);
      queueOcc += q;
      resOcc += Atomics.load(w.view.i32, RES_TAIL_I) - w.resHead;
      return {
        index: w.index,
        jobsProcessed: Atomics.load(w.view.i32, W_JOBS_DONE),
        jobsFailed: Atomics.load(w.view.i32, W_JOBS_FAILED),
        respawns: w.respawns,
        queued: q,
      };
    });
    const rejectedByReason: Record<string, number> = {};
    for (let i = 1; i < this.rejectedBy.length; i++) if (this.rejectedBy[i] > 0) rejectedByReason[rejectionName(-i)] = this.rejectedBy[i];
    const cap = this.layout.ringCapacity * perWorker.length;
    return {
      submitted: this.nSubmitted,
      completed: this.nCompleted,
      failed: this.nFailed,
      rejected: this.nRejected,
      rejectedByReason,
      expired: this.nExpired,
      cancelled: this.nCancelled,
      inFlight: this.nInFlight,
      queueOccupancy: queueOcc,
      queueCapacity: cap,
      resultOccupancy: resOcc,
      resultCapacity: cap,
      workers: perWorker,
      respawns: this.nRespawns,
      latency: { boundsUs: counts.map((_, b) => histogramBoundUs(b)), counts },
      sharedBytes: this.layout.totalBytes,
      arenaBytesUsed: this.arena.used,
      arenaBytes: this.layout.arenaBytes,
    };
  }

  /** Times a worker's ring index was found outside its ring; that worker was retired. */
  get corruptRings(): number {
    return this.nCorruptRings;
  }

  /** Result records that named a slot not running that generation (stale or torn); never applied. */
  get staleRecords(): number {
    return this.nStaleRecords;
  }

  /** Per worker: alive / stale / dead from its heartbeat slot. Empty with workers: 0. */
  health(): WorkerHealth[] {
    const t = sharedNow();
    const out: WorkerHealth[] = [];
    for (let i = 0; i < this.opts.workers; i++) {
      const w = this.workers[i];
      const beats = Atomics.load(w.view.i32, W_BEAT);
      let state: WorkerState;
      if (w.life === Life.Dead || (w.retiring && w.life !== Life.Starting)) state = 'dead';
      else if (w.life === Life.Starting) state = 'starting';
      else {
        if (beats !== w.lastBeat) {
          w.lastBeat = beats;
          w.lastBeatAt = t;
        }
        state = t - w.lastBeatAt > this.opts.staleMs ? 'stale' : 'alive';
      }
      const slot = Atomics.load(w.view.i32, W_CUR_SLOT);
      const gen = Atomics.load(w.view.i32, W_CUR_GEN);
      out.push({
        index: i,
        state,
        beats,
        currentJob: slot >= 0 && state !== 'dead' ? jobIdOf(slot, gen, this.slotBits) : -1,
        jobsProcessed: Atomics.load(w.view.i32, W_JOBS_DONE),
        respawns: w.respawns,
        reason: state === 'dead' ? w.deadReason : null,
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stops taking jobs, gives in-flight jobs `timeoutMs` (default 2000) to finish,
   * cancels those still queued, fails those still running with reason `shutdown`,
   * stops the workers and reports. Calling it again returns the same report.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownReport> {
    if (this.shutdownPromise !== null) return this.shutdownPromise;
    const timeoutMs = options.timeoutMs ?? 2000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return Promise.reject(new EngineError('INVALID_OPTION', `shutdown timeoutMs must be a non-negative number, got ${String(timeoutMs)}`));
    }
    this.shutdownPromise = this.doShutdown(timeoutMs, options.onResult ?? (() => {}));
    return this.shutdownPromise;
  }

  private async doShutdown(timeoutMs: number, sink: (r: ResultView) => void): Promise<ShutdownReport> {
    const before = { completed: this.nCompleted, failed: this.nFailed, expired: this.nExpired, cancelled: this.nCancelled };
    const inFlightAtStart = this.nInFlight;
    this.state = EngineState.Stopping;
    this.flush();
    const start = sharedNow();
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    while (this.nInFlight > 0 && sharedNow() - start < timeoutMs) {
      this.poll(sink);
      if (this.nInFlight === 0) break;
      if (this.host !== null && !this.workers.some((w) => w.life !== Life.Dead)) break;
      await sleep(1);
    }
    const timedOut = this.nInFlight > 0;
    // Queued jobs that never started are cancelled.
    const n = this.layout.jobSlots;
    for (let slot = 0; slot < n; slot++) {
      if (this.slotLive[slot] === 0 || this.slotTaken[slot] === 1) continue;
      const word = this.slotWords[slot];
      if ((word & STATE_MASK) === S_QUEUED && Atomics.compareExchange(this.slotWords, slot, word, (word & ~STATE_MASK) | S_CANCELLED) === word) {
        this.nCancelled++;
        this.nInFlight--;
        this.unqueue(slot);
        this.release(slot);
      }
    }
    // Workers stop at their next look at the engine state; the ones that do not are terminated.
    Atomics.store(this.header, H_ENGINE_STATE, ENGINE_STOPPING);
    for (const w of this.workers) {
      // ORDERING: wakes a worker asleep on either word so it sees STOPPING now.
      Atomics.notify(w.view.i32, JOB_TAIL_I);
      Atomics.notify(w.view.i32, RES_HEAD_I);
    }
    if (this.host !== null) {
      const remaining = Math.max(100, timeoutMs - (sharedNow() - start));
      const live = this.workers.filter((w) => w.hosted !== null);
      let cap: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(live.map((w) => w.exited)), new Promise<void>((r) => (cap = setTimeout(r, remaining)))]);
      clearTimeout(cap);
      await Promise.all(this.workers.map((w) => (w.hosted !== null ? w.hosted.terminate() : undefined)));
    }
    this.poll(sink);
    // Whatever is still live was running on a worker that is gone now.
    for (let slot = 0; slot < n; slot++) {
      if (this.slotLive[slot] === 0 || this.slotLost[slot] === 1) continue;
      if (this.slotTaken[slot] === 1) {
        this.release(slot);
        continue;
      }
      this.queueLost(slot, 'shutdown');
    }
    while (this.lostHead !== this.lostTail) this.deliverLost(sink);
    this.state = EngineState.Stopped;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    cleanupKinds(this.mainKinds);
    return {
      completed: this.nCompleted - before.completed,
      failed: this.nFailed - before.failed,
      expired: this.nExpired - before.expired,
      cancelled: this.nCancelled - before.cancelled,
      inFlightAtStart,
      timedOut,
      stats: this.stats(),
    };
  }
}

/** True when `to` is `from` or up to `capacity` records after it (int32 wrap-around aware). */
const inRing = (from: number, to: number, capacity: number): boolean => {
  const span = (to - from) | 0;
  return span >= 0 && span <= capacity;
};

const LOST_REASONS: readonly FailureReason[] = ['worker-lost', 'worker-out-of-memory', 'shutdown', 'threw'];
