/**
 * The submit path: reads a submit's inputs once into the engine's own storage, validates
 * them, chooses the job's arena slice, opens a job slot, and hands the job to the
 * dispatcher (or, with prerequisites or in the background lane, to the waiting jobs).
 * Also the two ways of submitting built on it: parallelFor and combine.
 *
 * Main thread only. Allocates nothing per job beyond one clock reading per STAMP_EVERY
 * submits: on Node 20 each reading is a new heap number.
 */
import type { SubmitOptions } from './api.js';
import type { Books } from './books.js';
import { stampAt } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobTable } from './job-table.js';
import { MAX_PARAMS } from './kind.js';
import { plainF64, typedArrayLength, type KindTable } from './kind-table.js';
import { MAX_BUNDLE, MAX_RANGE, NO_DEADLINE, bundleBytes } from './layout.js';
import { Rejection } from './outcome.js';
import type { Payloads } from './payloads.js';
import { EngineState, type Supervisor } from './supervisor.js';
import type { Waiting } from './waiting.js';

/**
 * A batch argument (submitMany, submitBundle) read once: a plain Float64Array over a real
 * Float64Array's own memory and length (plainF64), or null for anything else or a read
 * that threw. A Proxy is not a view (ArrayBuffer.isView), and a subclass or an own
 * property can say another `length`: the intrinsic getter's is the one taken.
 */
function readBatch(params: unknown): Float64Array | null {
  try {
    if (!ArrayBuffer.isView(params) || !(params instanceof Float64Array)) return null;
    return plainF64(params, typedArrayLength.call(params));
  } catch {
    return null;
  }
}

/** Submits that may share one clock reading. */
const STAMP_EVERY = 32;
const NO_PARAMS = new Float64Array(0);

export class Submitter {
  /** The current frame (EngineCore.beginFrame): submits carry it. */
  frame = 0;
  private readonly books: Books;
  private readonly kindTable: KindTable;
  private readonly jobs: JobTable;
  private readonly payloads: Payloads;
  private readonly dispatcher: Dispatcher;
  private readonly waiting: Waiting;
  private readonly supervisor: Supervisor;
  private readonly workerCount: number;
  /** The shared arena, where a bundle's parameters go. */
  private readonly arenaF64: Float64Array;
  private readonly clockNow = new Float64Array(1);
  private stampCountdown = 0;
  private readonly barrierKind: number;
  private readonly combineOpts: SubmitOptions = {};

  constructor(
    books: Books,
    kindTable: KindTable,
    jobs: JobTable,
    payloads: Payloads,
    dispatcher: Dispatcher,
    waiting: Waiting,
    supervisor: Supervisor,
    workerCount: number,
    arenaF64: Float64Array,
  ) {
    this.books = books;
    this.kindTable = kindTable;
    this.jobs = jobs;
    this.payloads = payloads;
    this.dispatcher = dispatcher;
    this.waiting = waiting;
    this.supervisor = supervisor;
    this.workerCount = workerCount;
    this.arenaF64 = arenaF64;
    this.barrierKind = kindTable.id('barrier');
  }

  /**
   * The next submit reads the clock afresh (poll and beginFrame call this), so a job's
   * recorded submit time can only be early, never late: latency is never understated.
   */
  restamp(): void {
    this.stampCountdown = 0;
  }

  /**
   * Submits share `src[i]`, a reading just taken by another part (the job timeline's), for
   * the next STAMP_EVERY jobs instead of reading the clock again: still a time before theirs.
   */
  adoptStamp(src: Float64Array, i: number): void {
    this.clockNow[0] = src[i];
    this.stampCountdown = STAMP_EVERY;
  }

  /** See EngineCore.submit. */
  submit(kind: number, params: ArrayLike<number>, tag: number, opts: SubmitOptions | undefined): number {
    return opts === undefined ? this.submitPlain(kind, params, tag) : this.submitWith(kind, params, tag, opts, -1, 1);
  }

  /**
   * The common case, a job with no options: the kind's default deadline and arena slice,
   * the frame lane, no prerequisites. The same checks and outcomes as submitWith.
   */
  private submitPlain(kind: number, params: ArrayLike<number>, tag: number): number {
    const b = this.books;
    if (this.supervisor.state !== EngineState.Running) return b.reject(Rejection.ShutDown);
    if (this.payloads.sizing) return b.reject(Rejection.BadParams);
    const kt = this.kindTable;
    if (typeof kind !== 'number' || !kt.has(kind)) return b.reject(Rejection.UnknownKind);
    const bad = kt.readParams(kind, params);
    if (bad !== 0) return b.reject(Rejection.BadParams);
    if (typeof tag !== 'number' || (tag | 0) !== tag) return b.reject(Rejection.BadParams);
    const arenaOff = kt.hasArena[kind] === 0 ? -1 : this.payloads.forKind(kind);
    if (arenaOff < -1) return b.reject(arenaOff as Rejection);
    if (--this.stampCountdown <= 0) {
      stampAt(this.clockNow, 0);
      this.stampCountdown = STAMP_EVERY;
    }
    return this.openPlain(kind, arenaOff, tag, 0);
  }

  /**
   * Opens and sends a plain job of `kind` whose checked parameters are in the kind's read
   * buffer (KindTable.read), with its arena slice chosen: the part of a plain submit that
   * submitPlain, submitMany and submitBundle share. `bundle` > 0: a bundle of that many
   * jobs, whose parameters are in its slice already. Returns the job id or a Rejection code.
   */
  private openPlain(kind: number, arenaOff: number, tag: number, bundle: number): number {
    const b = this.books;
    const kt = this.kindTable;
    const t = this.jobs;
    const jobs = bundle === 0 ? 1 : bundle;
    // A bundle weighs on its worker's queue as its jobs do (a field: no double crosses the call).
    if (bundle !== 0) this.dispatcher.scale = bundle;
    const w = t.free === 0 ? null : this.dispatcher.pick(kind);
    if (bundle !== 0) this.dispatcher.scale = 1;
    if (w === null) {
      this.payloads.giveBack(arenaOff);
      return b.reject(t.free === 0 ? Rejection.RingFull : this.dispatcher.lastPickReason, jobs);
    }
    const slot = t.open();
    const gen = t.gen(slot);
    if (bundle === 0) {
      const n = kt.paramCount[kind];
      const src = kt.read[kind];
      const pbase = slot * MAX_PARAMS;
      for (let i = 0; i < n; i++) t.params[pbase + i] = src[i];
    } else t.bundle[slot] = bundle;
    t.kind[slot] = kind;
    t.tag[slot] = tag;
    t.frame[slot] = this.frame;
    const d = kt.deadline[kind];
    t.deadline[slot] = d !== d ? NO_DEADLINE : Math.min(NO_DEADLINE, this.frame + Math.floor(d));
    t.arenaOffset[slot] = arenaOff;
    t.arenaBytes[slot] = arenaOff < 0 ? 0 : this.payloads.bytes;
    t.time[slot] = this.clockNow[0];
    b.admit(jobs);
    this.dispatcher.write(w, slot, gen, false);
    return t.idOf(slot, gen);
  }

  /**
   * See EngineCore.submitMany. The checks a plain submit makes of its kind, tag and engine
   * are made once for the batch; each job's parameters are copied once from `params` into
   * the kind's read buffer and checked there, as readParams checks one job's.
   */
  submitMany(kind: number, params: Float64Array, count: number, ids: Int32Array | undefined, tag: number): number {
    const b = this.books;
    let n = -1;
    let room = 0;
    let bad = false;
    const values = readBatch(params);
    const have = values === null ? -1 : typedArrayLength.call(values);
    // `ids` is read once too, its length its own.
    try {
      if (ids !== undefined) {
        if (!ArrayBuffer.isView(ids) || !(ids instanceof Int32Array)) bad = true;
        else room = typedArrayLength.call(ids);
      }
    } catch {
      bad = true;
    }
    // An empty batch refused for shutdown would count a refusal of no job.
    if (this.supervisor.state !== EngineState.Running) return count === 0 ? 0 : b.reject(Rejection.ShutDown);
    if (this.payloads.sizing) return b.reject(Rejection.BadParams);
    const kt = this.kindTable;
    if (typeof kind !== 'number' || !kt.has(kind)) return b.reject(Rejection.UnknownKind);
    n = kt.paramCount[kind];
    if (
      bad ||
      values === null ||
      typeof count !== 'number' ||
      (count | 0) !== count ||
      count < 0 ||
      have !== count * n ||
      (ids !== undefined && room < count) ||
      typeof tag !== 'number' ||
      (tag | 0) !== tag
    ) {
      return b.reject(Rejection.BadParams);
    }
    const dst = kt.read[kind];
    const hasArena = kt.hasArena[kind] !== 0;
    stampAt(this.clockNow, 0);
    this.stampCountdown = STAMP_EVERY;
    for (let j = 0; j < count; j++) {
      const base = j * n;
      for (let i = 0; i < n; i++) dst[i] = values[base + i];
      const badParams = kt.checkRead(kind);
      let id: number;
      // A kind's arenaBytes (the game's code) may have begun a shutdown mid-batch.
      if (this.supervisor.state !== EngineState.Running) id = b.reject(Rejection.ShutDown);
      else if (badParams === 0) {
        const arenaOff = hasArena ? this.payloads.forKind(kind) : -1;
        id = arenaOff < -1 ? b.reject(arenaOff as Rejection) : this.openPlain(kind, arenaOff, tag, 0);
      } else id = b.reject(badParams);
      if (id < 0) {
        if (j === 0) return id;
        if (ids !== undefined && j < room) ids[j] = id;
        return j;
      }
      if (ids !== undefined) ids[j] = id;
    }
    return count;
  }

  /**
   * See EngineCore.submitBundle. The checks of a plain submit, made once for the bundle and
   * for each job's parameters; a refusal refuses every job in it, and counts each.
   */
  submitBundle(kind: number, params: Float64Array, count: number, tag: number): number {
    const b = this.books;
    const values = readBatch(params);
    const have = values === null ? -1 : typedArrayLength.call(values);
    // A count that is not one is a refusal of one submit.
    const jobs = typeof count === 'number' && (count | 0) === count && count >= 1 && count <= MAX_BUNDLE ? count : 1;
    if (this.supervisor.state !== EngineState.Running) return b.reject(Rejection.ShutDown, jobs);
    if (this.payloads.sizing) return b.reject(Rejection.BadParams, jobs);
    const kt = this.kindTable;
    if (typeof kind !== 'number' || !kt.has(kind)) return b.reject(Rejection.UnknownKind, jobs);
    const n = kt.paramCount[kind];
    // A kind that sizes an arena slice per job cannot share one slice among many.
    if (values === null || jobs !== count || have < count * n || typeof tag !== 'number' || (tag | 0) !== tag || kt.hasArena[kind] !== 0) {
      return b.reject(Rejection.BadParams, jobs);
    }
    if (kt.checkMany(kind, values, count) !== 0) return b.reject(Rejection.BadParams, jobs);
    const off = this.payloads.forBundle(bundleBytes(count, n, kt.resultCount[kind]));
    if (off < -1) return b.reject(off as Rejection, jobs);
    const dst = this.arenaF64;
    const at = off >> 3;
    for (let i = 0; i < count * n; i++) dst[at + i] = values[i];
    if (--this.stampCountdown <= 0) {
      stampAt(this.clockNow, 0);
      this.stampCountdown = STAMP_EVERY;
    }
    return this.openPlain(kind, off, tag, count);
  }

  /**
   * A job with options, or a parallel-for's (`rangeCount` >= 0; arguments, not fields, as a
   * kind's arenaBytes may submit again while this one is under way): deadline, arena
   * slice, lane, prerequisites.
   */
  private submitWith(kind: number, params: ArrayLike<number>, tag: number, opts: SubmitOptions | undefined, rangeCount: number, rangeGrain: number): number {
    const b = this.books;
    // Each option is read once, into locals; a getter that throws is a bad submit.
    let deadlineFrames: unknown = undefined;
    let callerOff: unknown = undefined;
    let callerBytes: unknown = undefined;
    let after: unknown = undefined;
    let laneOpt: unknown = undefined;
    let badOpts = false;
    if (opts !== undefined) {
      try {
        if (opts === null || typeof opts !== 'object') badOpts = true;
        else {
          deadlineFrames = opts.deadlineFrames;
          callerOff = opts.arenaOffset;
          callerBytes = opts.arenaBytes;
          after = opts.after;
          laneOpt = opts.lane;
        }
      } catch {
        badOpts = true;
      }
    }
    if (this.supervisor.state !== EngineState.Running) return b.reject(Rejection.ShutDown);
    if (this.payloads.sizing) return b.reject(Rejection.BadParams);
    if (typeof kind !== 'number' || !this.kindTable.has(kind)) return b.reject(Rejection.UnknownKind);
    const bad = this.kindTable.readParams(kind, params);
    if (bad !== 0 || badOpts) return b.reject(Rejection.BadParams);
    if (typeof tag !== 'number' || (tag | 0) !== tag) return b.reject(Rejection.BadParams);
    if (deadlineFrames === undefined) deadlineFrames = this.kindTable.list[kind].deadlineFrames;
    if (deadlineFrames !== undefined && !(typeof deadlineFrames === 'number' && deadlineFrames >= 0)) return b.reject(Rejection.BadParams);
    // A background job, or one with prerequisites, waits in the engine (waiting.ts).
    const lane = laneOpt === undefined || laneOpt === 'frame' ? 0 : laneOpt === 'background' ? 1 : -1;
    const nAfter = after === undefined ? 0 : this.waiting.readAfter(after);
    if (lane < 0 || nAfter < 0) return b.reject(Rejection.BadParams);
    const held = lane === 1 || after !== undefined;
    // A job that would wait in the engine is refused like any other when no worker is left.
    if (held && this.dispatcher.allGone()) return b.reject(Rejection.NoWorkers);
    const arenaOff =
      callerOff === undefined ? this.payloads.forKind(kind) : this.payloads.fromCaller(kind, callerOff, callerBytes, nAfter > 0 ? this.waiting.isPrereqSlice : null);
    if (arenaOff < -1) return b.reject(arenaOff as Rejection);
    const w = this.jobs.free === 0 || held ? null : this.dispatcher.pick(kind);
    if (this.jobs.free === 0 || (w === null && !held)) {
      this.payloads.giveBack(arenaOff);
      return b.reject(this.jobs.free === 0 ? Rejection.RingFull : this.dispatcher.lastPickReason);
    }
    const t = this.jobs;
    const slot = t.open();
    const gen = t.gen(slot);
    const n = this.kindTable.paramCount[kind];
    const src = this.kindTable.read[kind];
    const pbase = slot * MAX_PARAMS;
    for (let i = 0; i < n; i++) t.params[pbase + i] = src[i];
    t.kind[slot] = kind;
    t.tag[slot] = tag;
    t.frame[slot] = this.frame;
    t.deadline[slot] = deadlineFrames === undefined ? NO_DEADLINE : Math.min(NO_DEADLINE, this.frame + Math.floor(deadlineFrames as number));
    t.arenaOffset[slot] = arenaOff;
    t.arenaBytes[slot] = arenaOff < 0 ? 0 : this.payloads.bytes;
    // The clock allocates on Node 20 (a boxed number per read), so submits share one
    // reading for up to STAMP_EVERY jobs; poll and beginFrame force a fresh one. A
    // job's submit time can only be early by that much: latency is never understated.
    if (--this.stampCountdown <= 0) {
      stampAt(this.clockNow, 0);
      this.stampCountdown = STAMP_EVERY;
    }
    t.time[slot] = this.clockNow[0];
    if (rangeCount >= 0) t.openRange(slot, rangeCount, rangeGrain);
    b.admit();
    if (w !== null) this.dispatcher.dispatch(w, slot, gen);
    else {
      this.waiting.hold(slot, lane, nAfter);
      this.dispatcher.dispatchWaiting();
    }
    return t.idOf(slot, gen);
  }

  /** See EngineCore.parallelFor. */
  parallelFor(kind: number, params: ArrayLike<number>, count: number, grain: number, tag: number, opts: SubmitOptions | undefined): number {
    if (typeof count !== 'number' || !(count >= 0 && count <= MAX_RANGE) || (count | 0) !== count || typeof grain !== 'number' || !(grain >= 0) || (grain | 0) !== grain) {
      return this.books.reject(Rejection.BadParams);
    }
    return this.submitWith(kind, params, tag, opts, count, grain > 0 ? grain : Math.max(1, Math.ceil(count / (8 * Math.max(1, this.workerCount)))));
  }

  /** See EngineCore.combine. */
  combine(jobIds: ArrayLike<number>, tag: number): number {
    // Without a list the barrier would wait for nothing and end done: a call that lost its
    // argument, refused like a list that is not one.
    if (jobIds === undefined) return this.books.reject(this.supervisor.state !== EngineState.Running ? Rejection.ShutDown : Rejection.BadParams);
    this.combineOpts.after = jobIds;
    const id = this.submit(this.barrierKind, NO_PARAMS, tag, this.combineOpts);
    this.combineOpts.after = undefined;
    return id;
  }
}
