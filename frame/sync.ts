/**
 * Frame-tagged jobs for a fixed-step game: every request carries the frame that made
 * it and a key ("path for agent 17"); results are applied under one of two policies.
 *
 * - deterministic: the result is applied exactly at frame submit + K. A result that
 *   arrives early waits in this channel's staging arrays; one that has not arrived by
 *   then is computed right there on the main thread (engine.runInline, or, when the
 *   engine job already ended without a result because its worker died or the submit was
 *   refused, the game's own KindRunner). Nothing waits on a worker, and the game state
 *   depends only on the frame sequence, never on thread timing.
 * - bestEffort: applied by the poll that delivers it; a result older than maxAgeFrames is
 *   dropped and counted (and given the same deadline, so workers skip it if they can).
 *
 * A new request for a key supersedes the previous one if that has not been applied:
 * the old job is cancelled if it has not started and its result is ignored otherwise.
 *
 * Per-frame path (request, flush, poll, applyDue) allocates nothing: every per-key field is a
 * typed array sized at addChannel, the poll callback is created once.
 *
 * Threads: main thread only, the same thread that drives the engine.
 */
import type { ResultView, SubmitOptions } from '../engine/api.js';
import { EngineError, shownValue } from '../engine/errors.js';
import { MAX_PARAMS, MAX_RESULTS } from '../engine/kind.js';
import { MAX_BUNDLE } from '../engine/layout.js';
import { copyPlain, typedArrayLength } from '../engine/kind-table.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import type { KindRunner } from './kind-runner.js';

/** The part of EngineCore the game uses. */
export interface SyncEngine {
  kindId(name: string): number;
  beginFrame(frame: number): void;
  submit(kind: number, params: ArrayLike<number>, tag?: number, opts?: SubmitOptions): number;
  /** For channels with `bundle: true` (EngineCore.submitBundle). */
  submitBundle?(kind: number, params: Float64Array, count: number, tag?: number): number;
  poll(onResult: (r: ResultView) => void, max?: number): number;
  cancel(jobId: number): boolean;
  runInline(jobId: number, onResult: (r: ResultView) => void): boolean;
  arenaAlloc(bytes: number): number;
  readonly arenaI32: Int32Array;
  readonly workerCount: number;
}

/**
 * When a result reaches the game: `deterministic` applies it exactly K frames after its
 * submit frame (computing it on the spot if it is late), `bestEffort` when it arrives.
 */
export type ApplyPolicy = 'deterministic' | 'bestEffort';

/** A key space of one kind ("path for agent N"), declared with FrameSync.addChannel. */
export interface ChannelSpec {
  /** Kind name, as registered with the engine and the runner. */
  kind: string;
  /** Keys 0 .. keys-1; the key travels as the job's tag. */
  keys: number;
  /** Default: the FrameSync's policy. */
  policy?: ApplyPolicy;
  /** deterministic: apply at submit + this. 1 or 2. Default: the FrameSync's. */
  applyAfterFrames?: number;
  /** bestEffort: results older than this many frames are dropped. Default: the FrameSync's. */
  maxAgeFrames?: number;
  /** Arena bytes copied back per result (multiple of 4); 0 for inline-only results. */
  payloadBytes?: number;
  /**
   * Bytes of input this channel writes into the arena slice before submit (multiple
   * of 4, at most payloadBytes). Write them into `input` at key * inputBytes first.
   * The slice is payloadBytes long; its results follow the input.
   */
  inputBytes?: number;
  /** Applies a result: values at key * MAX_RESULTS, payload at key * payloadBytes. */
  apply: (ch: Channel, key: number, frame: number) => void;
  /**
   * Sends each flush's requests of this channel as bundles (EngineCore.submitBundle), split
   * as bundleParts says: a record and a job id per bundle rather than per request, for
   * channels with many small jobs a frame.
   * Each key's result is still staged and applied on its own under the channel's policy.
   * A superseded key's result in a bundle is ignored (the bundle is not cancelled); a
   * deterministic key whose result is not in by its frame is computed by the runner
   * (runInline takes single jobs); bestEffort jobs in a bundle carry the kind's deadline,
   * not maxAgeFrames (a stale result is still dropped here). No bundle holds more than
   * 65,536 requests. Not with payloadBytes or inputBytes. Default false.
   */
  bundle?: boolean;
  /**
   * Bundle channels: how many bundles a flush's requests are split into, in request order
   * and near-equal parts (never more parts than requests), so that many workers can run
   * them at once: a bundle runs on one worker. Default: the engine's worker count. Set 1
   * for jobs so small that one worker keeps up with a frame's worth of them.
   */
  bundleParts?: number;
}

/** Slots for a bundle channel's bundles in flight: three flushes' worth of parts, and at least this many; with all in use, a flush sends the rest of its requests one by one. */
const BUNDLE_SLOTS = 8;
/** Most bundleParts a channel may ask for. */
const MAX_BUNDLE_PARTS = 64;

const IDLE = 0;
/** Submitted, no result yet. */
const WAITING = 1;
/** Result staged, not yet applied (deterministic). */
const READY = 2;
/** The engine job ended without a result, or was never accepted: compute it ourselves (deterministic). */
const LOST = 3;
/** Requested this frame, not yet handed to the engine (flush). */
const QUEUED = 4;

/** One key space of one kind. Fields are read by the apply callback; written only by FrameSync. */
export class Channel {
  readonly index: number;
  readonly name: string;
  readonly kindId: number;
  readonly runnerKind: number;
  readonly keys: number;
  readonly policy: ApplyPolicy;
  readonly k: number;
  readonly maxAge: number;
  readonly payloadBytes: number;
  readonly inputBytes: number;
  readonly apply: ChannelSpec['apply'];
  readonly jobId: Int32Array;
  readonly submitFrame: Int32Array;
  readonly status: Uint8Array;
  readonly params: Float64Array;
  readonly paramCount: Uint8Array;
  /** The kind's exact parameter count, and a buffer of that length to submit from. */
  readonly submitParams: Float64Array;
  /** Result values, MAX_RESULTS per key. */
  readonly values: Float64Array;
  /** Result payload, payloadBytes per key (views of one buffer). */
  readonly payloadI32: Int32Array;
  readonly payloadF32: Float32Array;
  /** Input staging, inputBytes per key. */
  readonly inputI32: Int32Array;
  readonly inputF32: Float32Array;
  /** True for a channel whose requests go to the engine as bundles (ChannelSpec.bundle). */
  readonly bundled: boolean;
  /** Bundle channels: the bundles a flush is split into (ChannelSpec.bundleParts), and the slots for bundles in flight. */
  readonly bundleParts: number;
  readonly bundleSlots: number;
  /** Bundle channels: the most requests one part holds, and so the keys each bundle slot has room for. */
  readonly bundleCap: number;
  /** Bundle channels: the bundles in flight (id, or -1 for a free slot), their job counts, and their keys in job order. */
  readonly bundleIds: Int32Array;
  readonly bundleCounts: Int32Array;
  readonly bundleKeys: Int32Array;
  /** Bundle channels: this flush's requests, and their parameters back to back. */
  readonly batchKeys: Int32Array;
  batchCount = 0;
  readonly bundleParams: Float64Array;
  /** Per-channel counters. */
  submitted = 0;
  applied = 0;
  superseded = 0;

  constructor(
    index: number, spec: Required<Omit<ChannelSpec, 'apply'>> & Pick<ChannelSpec, 'apply'>, kindId: number, runnerKind: number, kindParams: number,
  ) {
    this.bundled = spec.bundle;
    const b = spec.bundle ? spec.keys : 0;
    this.bundleParts = spec.bundleParts;
    this.bundleSlots = spec.bundle ? Math.max(BUNDLE_SLOTS, 3 * spec.bundleParts) : 0;
    this.bundleIds = new Int32Array(this.bundleSlots).fill(-1);
    this.bundleCounts = new Int32Array(this.bundleSlots);
    // A flush holds at most one request per key, and its parts are near-equal, none over MAX_BUNDLE.
    this.bundleCap = spec.bundle ? Math.min(MAX_BUNDLE, Math.ceil(spec.keys / spec.bundleParts)) : 0;
    this.bundleKeys = new Int32Array(this.bundleSlots * this.bundleCap);
    this.batchKeys = new Int32Array(b);
    this.bundleParams = new Float64Array(b * kindParams);
    this.index = index;
    this.name = spec.kind;
    this.kindId = kindId;
    this.runnerKind = runnerKind;
    this.keys = spec.keys;
    this.policy = spec.policy;
    this.k = spec.applyAfterFrames;
    this.maxAge = spec.maxAgeFrames;
    this.payloadBytes = spec.payloadBytes;
    this.inputBytes = spec.inputBytes;
    this.apply = spec.apply;
    const n = spec.keys;
    this.jobId = new Int32Array(n).fill(-1);
    this.submitFrame = new Int32Array(n);
    this.status = new Uint8Array(n);
    this.params = new Float64Array(n * MAX_PARAMS);
    this.paramCount = new Uint8Array(n);
    this.submitParams = new Float64Array(kindParams);
    this.values = new Float64Array(n * MAX_RESULTS);
    const pay = new ArrayBuffer(n * spec.payloadBytes);
    this.payloadI32 = new Int32Array(pay);
    this.payloadF32 = new Float32Array(pay);
    const inp = new ArrayBuffer(n * spec.inputBytes);
    this.inputI32 = new Int32Array(inp);
    this.inputF32 = new Float32Array(inp);
  }
}

/**
 * Copies the first `n` values of `src` into `dst`; false if a read threw (a getter, a
 * revoked Proxy, null).
 */
function readInto(dst: Float64Array, src: ArrayLike<number>, n: number): boolean {
  try {
    // A kind's view (a Float64Array subclass) as long as asked: the built-in copy, which
    // reads its memory rather than its class's elements.
    if (ArrayBuffer.isView(src) && src instanceof Float64Array && typedArrayLength.call(src) === n) dst.set(src);
    else {
      for (let i = 0; i < n; i++) {
        // A string or a boxed number would be converted by the store; submit refuses them.
        const v: unknown = src[i];
        if (typeof v !== 'number') return false;
        dst[i] = v;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** Latency buckets: applied (or arrived) 0, 1, 2, or more frames after the submit frame. */
export interface FrameBuckets {
  '0': number;
  '1': number;
  '2': number;
  later: number;
}

/** FrameSync's defaults for its channels, and its metrics history. */
export interface SyncOptions {
  policy?: ApplyPolicy;
  /** Default K for deterministic channels. Default 2. */
  applyAfterFrames?: number;
  /** Default max age for bestEffort channels, frames. Default 2. */
  maxAgeFrames?: number;
  /** Frames of per-frame metrics kept (a ring). Default 65536. */
  historyFrames?: number;
  /**
   * The clock the per-frame times are measured with, in ms. Default `performance.now`.
   * One that throws or returns something that is not a finite number does not stop a pass:
   * everything due is still applied, the stretch is left out of the times, and the call
   * (beginFrame, endFrame, flush, endRun) then throws INVALID_OPTION, the clock's error as
   * its `cause`.
   */
  now?: () => number;
}

export class FrameSync {
  readonly engine: SyncEngine;
  readonly runner: KindRunner;
  readonly policy: ApplyPolicy;
  readonly defaultK: number;
  readonly defaultMaxAge: number;
  readonly channels: Channel[] = [];
  frame = -1;
  // Counters.
  submitted = 0;
  rejected = 0;
  applied = 0;
  resultsPolled = 0;
  supersededJobs = 0;
  /** Results that arrived for a request that had been superseded. */
  supersededResults = 0;
  /** Deterministic results not in by their frame, computed by engine.runInline. */
  inlineFallbacks = 0;
  /** Deterministic jobs that ended without a result (or were refused), or in a bundle channel were not in by their frame, computed by the runner. */
  lostFallbacks = 0;
  /** bestEffort results dropped as older than their max age (by us or expired by the engine). */
  droppedStale = 0;
  /** bestEffort jobs that failed (their key is re-requested by the game later). */
  droppedFailed = 0;
  readonly appliedAfter = new Float64Array(4);
  readonly arrivedAfter = new Float64Array(4);
  // Per-frame history (ring).
  readonly historyFrames: number;
  readonly engineMs: Float64Array;
  /** Part of engineMs spent computing late or lost deterministic jobs on this thread. */
  readonly fallbackMs: Float64Array;
  readonly submittedPerFrame: Int32Array;
  readonly resultsPerFrame: Int32Array;
  framesRecorded = 0;
  /**
   * This frame's engine time and fallback time, ms. A typed array: a double stored in
   * an object field can box a fresh number on every update.
   */
  private readonly frameTime = new Float64Array(3);
  /** Part of engineMs spent in flush (engine.submit), per frame. */
  readonly submitMs: Float64Array;
  private frameSubmitted = 0;
  private frameResults = 0;
  private readonly kindToChannel: Int32Array;
  private readonly now: () => number;
  private readonly optsDet: SubmitOptions = {};
  private readonly optsBest: SubmitOptions = { deadlineFrames: 2 };
  private readonly optsArena: SubmitOptions = { arenaOffset: 0, arenaBytes: 0 };
  private readonly onResult: (r: ResultView) => void;
  /** True while a channel's apply callback runs (the game's code; see finish). */
  private applying = false;
  /** The first error an apply callback threw this pass, thrown once the pass is done. */
  private applyError: { error: unknown } | null = null;
  /** The first way the game's clock failed this pass (see time()). */
  private clockError: EngineError | null = null;
  /** A request's parameters as read, before any state changes. */
  private readonly requestParams = new Float64Array(MAX_PARAMS);
  private queueCh = new Int32Array(1024);
  private queueKey = new Int32Array(1024);
  private queued = 0;

  constructor(engine: SyncEngine, runner: KindRunner, opts: SyncOptions = {}) {
    const bad = (m: string): never => {
      throw new EngineError('INVALID_OPTION', m);
    };
    if (opts === null || typeof opts !== 'object') bad(`FrameSync options must be an object, got ${shownValue(opts)}`);
    // Each option is read once; a getter that throws is a bad option.
    let policy: unknown;
    let k: unknown;
    let maxAge: unknown;
    let hist: unknown;
    let now: unknown;
    try {
      policy = opts.policy ?? 'deterministic';
      k = opts.applyAfterFrames ?? 2;
      maxAge = opts.maxAgeFrames ?? 2;
      hist = opts.historyFrames ?? 65536;
      now = opts.now;
    } catch {
      bad('FrameSync options could not be read');
    }
    if (policy !== 'deterministic' && policy !== 'bestEffort') bad(`policy must be 'deterministic' or 'bestEffort', got ${shownValue(policy)}`);
    if (k !== 1 && k !== 2) bad(`applyAfterFrames must be 1 or 2, got ${shownValue(k)}`);
    if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) bad(`maxAgeFrames must be a non-negative integer, got ${shownValue(maxAge)}`);
    if (typeof hist !== 'number' || !Number.isInteger(hist) || hist < 1) bad(`historyFrames must be a positive integer, got ${shownValue(hist)}`);
    if (now !== undefined && typeof now !== 'function') bad(`now must be a function, got ${shownValue(now)}`);
    this.engine = engine;
    this.runner = runner;
    this.policy = policy as ApplyPolicy;
    this.defaultK = k as number;
    this.defaultMaxAge = maxAge as number;
    this.historyFrames = hist as number;
    this.engineMs = new Float64Array(hist as number);
    this.submitMs = new Float64Array(hist as number);
    this.fallbackMs = new Float64Array(hist as number);
    this.submittedPerFrame = new Int32Array(hist as number);
    this.resultsPerFrame = new Int32Array(hist as number);
    this.kindToChannel = new Int32Array(256).fill(-1);
    this.now = (now as (() => number) | undefined) ?? (() => performance.now());
    this.onResult = (r) => this.receive(r);
  }

  /** Declares a key space. Setup only: allocates. Throws UNKNOWN_KIND / INVALID_OPTION. */
  addChannel(spec: ChannelSpec): Channel {
    if (spec === null || typeof spec !== 'object') throw new EngineError('INVALID_OPTION', `addChannel() needs a channel spec object, got ${shownValue(spec)}`);
    // Each field is read once, before anything is looked up; a getter that throws is a bad spec.
    let read: ChannelSpec;
    try {
      read = {
        kind: spec.kind,
        keys: spec.keys,
        policy: spec.policy,
        applyAfterFrames: spec.applyAfterFrames,
        maxAgeFrames: spec.maxAgeFrames,
        payloadBytes: spec.payloadBytes,
        inputBytes: spec.inputBytes,
        apply: spec.apply,
        bundle: spec.bundle,
        bundleParts: spec.bundleParts,
      };
    } catch {
      throw new EngineError('INVALID_OPTION', 'addChannel(): the channel spec could not be read');
    }
    const kindId = this.engine.kindId(read.kind);
    const runnerKind = this.runner.indexOf(read.kind);
    const workers = this.engine.workerCount;
    const full = {
      kind: read.kind,
      keys: read.keys,
      policy: read.policy ?? this.policy,
      applyAfterFrames: read.applyAfterFrames ?? this.defaultK,
      maxAgeFrames: read.maxAgeFrames ?? this.defaultMaxAge,
      payloadBytes: read.payloadBytes ?? 0,
      inputBytes: read.inputBytes ?? 0,
      apply: read.apply,
      bundle: read.bundle ?? false,
      bundleParts: read.bundleParts ?? (Number.isInteger(workers) && workers > 1 ? Math.min(workers, MAX_BUNDLE_PARTS) : 1),
    };
    const bad = (m: string): never => {
      throw new EngineError('INVALID_OPTION', `channel ${full.kind}: ${m}`);
    };
    if (!Number.isInteger(full.keys) || full.keys < 1 || full.keys > 1 << 20) bad(`keys must be an integer in [1, 2^20], got ${shownValue(full.keys)}`);
    if (full.policy !== 'deterministic' && full.policy !== 'bestEffort') bad(`unknown policy ${shownValue(full.policy)}`);
    if (full.applyAfterFrames !== 1 && full.applyAfterFrames !== 2) bad(`applyAfterFrames must be 1 or 2, got ${shownValue(full.applyAfterFrames)}`);
    if (!Number.isInteger(full.maxAgeFrames) || full.maxAgeFrames < 0) bad(`maxAgeFrames must be a non-negative integer`);
    if (!Number.isInteger(full.payloadBytes) || full.payloadBytes < 0 || full.payloadBytes % 4 !== 0) bad('payloadBytes must be a non-negative multiple of 4');
    if (!Number.isInteger(full.inputBytes) || full.inputBytes < 0 || full.inputBytes % 4 !== 0 || full.inputBytes > full.payloadBytes) {
      bad('inputBytes must be a non-negative multiple of 4, at most payloadBytes');
    }
    if (typeof full.apply !== 'function') bad('apply must be a function');
    if (typeof full.bundle !== 'boolean') bad(`bundle must be a boolean, got ${shownValue(full.bundle)}`);
    if (full.bundle && (full.payloadBytes > 0 || full.inputBytes > 0)) bad('a bundle channel carries no arena payload (payloadBytes, inputBytes)');
    if (full.bundle && typeof this.engine.submitBundle !== 'function') bad('bundle needs an engine with submitBundle');
    if (!Number.isInteger(full.bundleParts) || full.bundleParts < 1 || full.bundleParts > MAX_BUNDLE_PARTS) {
      bad(`bundleParts must be an integer in [1, ${MAX_BUNDLE_PARTS}], got ${shownValue(full.bundleParts)}`);
    }
    if (kindId >= this.kindToChannel.length || this.kindToChannel[kindId] !== -1) bad('one channel per kind');
    const ch = new Channel(this.channels.length, full, kindId, runnerKind, this.runner.paramCount(runnerKind));
    this.kindToChannel[kindId] = ch.index;
    this.channels.push(ch);
    return ch;
  }

  /**
   * Starts frame `frame`: tells the engine, takes in every finished result, and applies
   * the deterministic results due now. Call once per fixed step, before game logic.
   */
  beginFrame(frame: number): void {
    this.notApplying('beginFrame');
    // Requests left unflushed belong to the frame that made them.
    this.submitQueue();
    this.closeFrame();
    const t0 = this.time();
    this.frame = frame;
    this.engine.beginFrame(frame);
    try {
      this.engine.poll(this.onResult);
      this.applyDue(frame);
    } finally {
      this.addTime(0, t0);
    }
    this.throwPassError();
  }

  /** Throws REENTRANT_CALL when called from inside an apply callback. */
  private notApplying(method: string): void {
    if (this.applying) throw new EngineError('REENTRANT_CALL', `FrameSync.${method}() was called from inside an apply callback; call it after the callback returns`);
  }

  /**
   * Throws the first error an apply callback threw during the pass just finished, or else
   * the clock's (INVALID_OPTION): either is thrown once the pass is done, never in its middle.
   */
  private throwPassError(): void {
    const e = this.applyError;
    const c = this.clockError;
    this.applyError = null;
    this.clockError = null;
    if (e !== null) throw e.error;
    if (c !== null) throw c;
  }

  /**
   * The game's clock, read so that it cannot stop a pass: a clock that throws or gives
   * something that is not a time reads as NaN (that stretch is not counted in the frame's
   * times) and the pass ends with INVALID_OPTION.
   */
  private time(): number {
    let t: unknown;
    try {
      t = this.now();
    } catch (err) {
      this.clockError ??= new EngineError('INVALID_OPTION', 'FrameSync: the now() clock threw', { cause: err });
      return NaN;
    }
    if (typeof t === 'number' && t - t === 0) return t;
    this.clockError ??= new EngineError('INVALID_OPTION', `FrameSync: the now() clock returned ${shownValue(t)}, not a time in ms`);
    return NaN;
  }

  /** Adds the time since t0 to frameTime[slot]; a stretch with an unreadable clock adds nothing. */
  private addTime(slot: 0 | 1 | 2, t0: number): number {
    const dt = this.time() - t0;
    if (dt === dt) this.frameTime[slot] += dt;
    return dt;
  }

  /**
   * Ends the frame's work: submits what is queued and takes in results that finished
   * meanwhile (bestEffort ones are applied now, at age 0; deterministic ones wait for
   * their frame). Optional; beginFrame does the same for whatever is left.
   */
  endFrame(): void {
    this.notApplying('endFrame');
    this.submitQueue();
    const t0 = this.time();
    try {
      this.engine.poll(this.onResult);
    } finally {
      this.addTime(0, t0);
    }
    this.throwPassError();
  }

  /**
   * Asks for a job of channel `ch` for `key` with the first `n` values of `params`
   * (write arena input into ch.input* at key * inputBytes first). Supersedes an
   * unapplied request for the same key. The request is queued and reaches the engine
   * at flush(): one timed submit pass per frame instead of a clock read per job.
   * Throws INVALID_ARGUMENT, changing nothing, for a foreign channel, a key outside it, or
   * parameters the kind does not accept (its count, types and bounds, as submit checks them).
   */
  request(ch: Channel, key: number, params: ArrayLike<number>, n: number): void {
    this.checkKey(ch, key, 'request');
    if (typeof n !== 'number' || !(n >= 0)) throw new EngineError('INVALID_ARGUMENT', `FrameSync.request(): the count must be a number >= 0, got ${shownValue(n)}`);
    const m = n < MAX_PARAMS ? n | 0 : MAX_PARAMS;
    // Each value is read once, before anything changes: a read that throws leaves no trace.
    const got = this.requestParams;
    if (ArrayBuffer.isView(params) && params instanceof Float64Array && Object.getPrototypeOf(params) === Float64Array.prototype) {
      // The common case, kept apart: a copy that also sees arrays, getters, Proxies and
      // the kinds' createParams() views (a class each) reads generically, and a generic
      // read of a Float64Array boxes each value.
      copyPlain(got, params, m);
    } else if (!readInto(got, params, m)) throw new EngineError('INVALID_ARGUMENT', 'FrameSync.request(): the parameters are not numbers, or reading them threw');
    // Checked here as the engine's submit checks them: a deterministic job the engine
    // refused is computed by the runner, which must never see values a worker would not.
    const problem = this.runner.paramsProblem(ch.runnerKind, got, n);
    if (problem !== null) throw new EngineError('INVALID_ARGUMENT', `FrameSync.request(): ${problem}`);
    const st = ch.status[key];
    if (st !== IDLE) {
      // A job in a bundle is not cancelled (that would cancel the bundle's other keys): its result is ignored.
      if (st !== QUEUED && ch.jobId[key] >= 0 && this.bundleSlot(ch, ch.jobId[key]) < 0) this.engine.cancel(ch.jobId[key]);
      ch.superseded++;
      this.supersededJobs++;
    }
    const pb = key * MAX_PARAMS;
    for (let i = 0; i < m; i++) ch.params[pb + i] = got[i];
    ch.paramCount[key] = m;
    ch.submitFrame[key] = this.frame;
    ch.jobId[key] = -1;
    if (st !== QUEUED) {
      if (this.queued === this.queueCh.length) this.growQueue();
      this.queueCh[this.queued] = ch.index;
      this.queueKey[this.queued] = key;
      this.queued++;
    }
    ch.status[key] = QUEUED;
  }

  /** Doubles the request queue. Allocates: only when a frame queues more than ever before. */
  private growQueue(): void {
    const c = new Int32Array(this.queueCh.length * 2);
    const k = new Int32Array(this.queueKey.length * 2);
    c.set(this.queueCh);
    k.set(this.queueKey);
    this.queueCh = c;
    this.queueKey = k;
  }

  /** Submits every queued request to the engine, in request order. Call once after the frame's game logic. */
  flush(): void {
    this.submitQueue();
    if (!this.applying) this.throwPassError();
  }

  private submitQueue(): void {
    if (this.queued === 0) return;
    const t0 = this.time();
    let bundled = false;
    for (let q = 0; q < this.queued; q++) {
      const ch = this.channels[this.queueCh[q]];
      if (!ch.bundled) this.submitQueued(ch, this.queueKey[q]);
      else {
        bundled = true;
        ch.batchKeys[ch.batchCount++] = this.queueKey[q];
      }
    }
    this.queued = 0;
    if (bundled) {
      for (let c = 0; c < this.channels.length; c++) {
        const ch = this.channels[c];
        const total = ch.batchCount;
        ch.batchCount = 0;
        if (total === 0) continue;
        // Near-equal parts in request order, none over MAX_BUNDLE.
        let parts = ch.bundleParts < total ? ch.bundleParts : total;
        const least = Math.ceil(total / MAX_BUNDLE);
        if (parts < least) parts = least;
        for (let p = 0, from = 0; p < parts; p++) {
          const to = p + 1 === parts ? total : Math.floor((total * (p + 1)) / parts);
          this.submitBundled(ch, from, to);
          from = to;
        }
      }
    }
    const dt = this.addTime(0, t0);
    if (dt === dt) this.frameTime[2] += dt;
  }

  private submitQueued(ch: Channel, key: number): void {
    const e = this.engine;
    const sp = ch.submitParams;
    const pb = key * MAX_PARAMS;
    const n = ch.paramCount[key];
    for (let i = 0; i < sp.length; i++) sp[i] = i < n ? ch.params[pb + i] : NaN;
    let opts: SubmitOptions = ch.policy === 'deterministic' ? this.optsDet : this.optsBest;
    if (ch.policy === 'bestEffort') this.optsBest.deadlineFrames = ch.maxAge;
    let id: number;
    if (ch.inputBytes > 0) {
      const off = e.arenaAlloc(ch.payloadBytes);
      if (off < 0) {
        id = Rejection.ArenaFull;
      } else {
        const dst = e.arenaI32;
        const d0 = off >> 2;
        const s0 = (key * ch.inputBytes) >> 2;
        const words = ch.inputBytes >> 2;
        for (let i = 0; i < words; i++) dst[d0 + i] = ch.inputI32[s0 + i];
        const o = this.optsArena;
        o.arenaOffset = off;
        o.arenaBytes = ch.payloadBytes;
        o.deadlineFrames = ch.policy === 'bestEffort' ? ch.maxAge : undefined;
        opts = o;
        id = e.submit(ch.kindId, sp, key, opts);
      }
    } else {
      id = e.submit(ch.kindId, sp, key, opts);
    }
    this.submitted++;
    ch.submitted++;
    this.frameSubmitted++;
    if (id < 0) {
      this.rejected++;
      ch.jobId[key] = -1;
      ch.status[key] = ch.policy === 'deterministic' ? LOST : IDLE;
    } else {
      ch.jobId[key] = id;
      ch.status[key] = WAITING;
    }
  }

  /**
   * Submits a bundle channel's requests `from` .. `to` of this flush (batchKeys) as one
   * bundle, in request order; one by one when all of its bundle slots are in use. A refused
   * bundle is handled as each of its jobs refused.
   */
  private submitBundled(ch: Channel, from: number, to: number): void {
    const count = to - from;
    let s = -1;
    for (let i = 0; i < ch.bundleSlots; i++) {
      if (ch.bundleIds[i] < 0) {
        s = i;
        break;
      }
    }
    if (s < 0) {
      for (let j = from; j < to; j++) this.submitQueued(ch, ch.batchKeys[j]);
      return;
    }
    const np = ch.submitParams.length;
    const bp = ch.bundleParams;
    const keys = ch.bundleKeys;
    const base = s * ch.bundleCap;
    for (let j = 0; j < count; j++) {
      const key = ch.batchKeys[from + j];
      const pb = key * MAX_PARAMS;
      const n = ch.paramCount[key];
      for (let i = 0; i < np; i++) bp[j * np + i] = i < n ? ch.params[pb + i] : NaN;
      keys[base + j] = key;
    }
    const id = this.engine.submitBundle!(ch.kindId, bp, count, 0);
    this.submitted += count;
    ch.submitted += count;
    this.frameSubmitted += count;
    if (id < 0) {
      this.rejected += count;
      for (let j = from; j < to; j++) {
        const key = ch.batchKeys[j];
        ch.jobId[key] = -1;
        ch.status[key] = ch.policy === 'deterministic' ? LOST : IDLE;
      }
      return;
    }
    ch.bundleIds[s] = id;
    ch.bundleCounts[s] = count;
    for (let j = from; j < to; j++) {
      const key = ch.batchKeys[j];
      ch.jobId[key] = id;
      ch.status[key] = WAITING;
    }
  }

  /** The bundle slot of job `id` in a bundle channel, or -1 (not one of its bundles in flight). */
  private bundleSlot(ch: Channel, id: number): number {
    // A free slot holds -1: no id, never a match.
    if (!ch.bundled || id < 0) return -1;
    for (let i = 0; i < ch.bundleSlots; i++) if (ch.bundleIds[i] === id) return i;
    return -1;
  }

  /** True while key has a request that has not been applied. */
  pending(ch: Channel, key: number): boolean {
    this.checkKey(ch, key, 'pending');
    return ch.status[key] !== IDLE;
  }

  /** Throws INVALID_ARGUMENT unless `ch` is one of this FrameSync's channels and `key` one of its keys. */
  private checkKey(ch: Channel, key: number, method: string): void {
    if (!(ch instanceof Channel) || this.channels[ch.index] !== ch) throw new EngineError('INVALID_ARGUMENT', `FrameSync.${method}(): not a channel of this FrameSync`);
    if (typeof key !== 'number' || (key | 0) !== key || key < 0 || key >= ch.keys) {
      throw new EngineError('INVALID_ARGUMENT', `FrameSync.${method}(): key must be an integer in [0, ${ch.keys}), got ${shownValue(key)}`);
    }
  }

  /** The poll / runInline callback: stage or apply one result. */
  private receive(r: ResultView): void {
    this.resultsPolled++;
    this.frameResults++;
    const ci = r.kind < this.kindToChannel.length ? this.kindToChannel[r.kind] : -1;
    if (ci < 0) return;
    const ch = this.channels[ci];
    let key = r.tag;
    const s = this.bundleSlot(ch, r.jobId);
    if (s >= 0) {
      // A bundle's job: its key by its place in the bundle. The slot is free after its last.
      const count = ch.bundleCounts[s];
      const item = r.item;
      key = item >= 0 && item < count ? ch.bundleKeys[s * ch.bundleCap + item] : -1;
      if (item === count - 1) ch.bundleIds[s] = -1;
    }
    if (key < 0 || key >= ch.keys || ch.jobId[key] !== r.jobId || ch.status[key] !== WAITING) {
      this.supersededResults++;
      return;
    }
    const age = this.frame - ch.submitFrame[key];
    if (r.status !== Outcome.Done) {
      if (ch.policy === 'deterministic') {
        ch.status[key] = LOST;
      } else {
        if (r.status === Outcome.Expired) this.droppedStale++;
        else this.droppedFailed++;
        ch.status[key] = IDLE;
      }
      ch.jobId[key] = -1;
      return;
    }
    this.stage(ch, key, r.values, r.valueCount, this.engine.arenaI32, r.arenaOffset, r.arenaBytes);
    this.arrivedAfter[age < 3 ? age : 3]++;
    if (ch.policy === 'deterministic') {
      ch.status[key] = READY;
      return;
    }
    ch.status[key] = IDLE;
    ch.jobId[key] = -1;
    if (age > ch.maxAge) {
      this.droppedStale++;
      return;
    }
    this.finish(ch, key, age);
  }

  private stage(ch: Channel, key: number, values: Float64Array, count: number, arenaI32: Int32Array, arenaOffset: number, arenaBytes: number): void {
    const vb = key * MAX_RESULTS;
    for (let i = 0; i < MAX_RESULTS; i++) ch.values[vb + i] = i < count ? values[i] : 0;
    if (ch.payloadBytes > 0 && arenaOffset >= 0) {
      const words = (arenaBytes < ch.payloadBytes ? arenaBytes : ch.payloadBytes) >> 2;
      const d0 = (key * ch.payloadBytes) >> 2;
      const s0 = arenaOffset >> 2;
      for (let i = 0; i < words; i++) ch.payloadI32[d0 + i] = arenaI32[s0 + i];
    }
  }

  /**
   * Applies one result with the game's callback. One that throws does not stop the pass:
   * the other results due this frame are still applied on time, and the first error is
   * thrown when beginFrame or endFrame is done.
   */
  private finish(ch: Channel, key: number, age: number): void {
    this.appliedAfter[age < 3 ? age : 3]++;
    this.applied++;
    ch.applied++;
    this.applying = true;
    try {
      ch.apply(ch, key, this.frame);
    } catch (error) {
      this.applyError ??= { error };
    } finally {
      this.applying = false;
    }
  }

  /** Applies every deterministic result due at `frame`, computing the missing ones now. */
  private applyDue(frame: number): void {
    const e = this.engine;
    // Fallback time runs from the frame's first fallback to the end of this pass: one
    // clock read pair per frame that has any, none for frames that have none.
    let tf = NaN;
    for (let c = 0; c < this.channels.length; c++) {
      const ch = this.channels[c];
      if (ch.policy !== 'deterministic') continue;
      for (let key = 0; key < ch.keys; key++) {
        const st = ch.status[key];
        if (st === IDLE || ch.submitFrame[key] + ch.k > frame) continue;
        if (tf !== tf && (st === WAITING || st === LOST)) tf = this.time();
        let inline = false;
        if (st === WAITING) {
          if (this.bundleSlot(ch, ch.jobId[key]) >= 0) {
            // A bundle's job cannot run inline on its own: what its worker published since
            // this frame's poll is taken, and the runner computes it if it is not there.
            e.poll(this.onResult);
          } else {
            inline = true;
            this.inlineFallbacks++;
            if (!e.runInline(ch.jobId[key], this.onResult)) {
              // Already ended: its result (or failure) was published after this frame's poll.
              e.poll(this.onResult);
            }
          }
        }
        if (ch.status[key] === WAITING || ch.status[key] === LOST) {
          if (ch.status[key] === WAITING && inline) this.inlineFallbacks--;
          this.runLost(ch, key);
        }
        ch.status[key] = IDLE;
        ch.jobId[key] = -1;
        this.finish(ch, key, frame - ch.submitFrame[key]);
      }
    }
    if (tf === tf) this.addTime(1, tf);
  }

  /** Computes a deterministic job the engine could not deliver, with the game's own runner. */
  private runLost(ch: Channel, key: number): void {
    this.lostFallbacks++;
    const rn = this.runner;
    if (ch.inputBytes > 0) {
      const s0 = (key * ch.inputBytes) >> 2;
      for (let i = 0; i < ch.inputBytes >> 2; i++) rn.arenaI32[i] = ch.inputI32[s0 + i];
    }
    const pb = key * MAX_PARAMS;
    const n = ch.paramCount[key];
    const p = this.lostParams;
    for (let i = 0; i < n; i++) p[i] = ch.params[pb + i];
    const out = rn.run(ch.runnerKind, p, key, ch.submitFrame[key], ch.payloadBytes > 0 ? ch.payloadBytes : -1);
    this.stage(ch, key, out, MAX_RESULTS, rn.arenaI32, 0, ch.payloadBytes);
  }
  private readonly lostParams = new Float64Array(MAX_PARAMS);

  /** Records the finished frame's metrics. */
  private closeFrame(): void {
    if (this.frame < 0) return;
    const i = this.framesRecorded % this.historyFrames;
    this.engineMs[i] = this.frameTime[0];
    this.fallbackMs[i] = this.frameTime[1];
    this.submitMs[i] = this.frameTime[2];
    this.frameTime[0] = 0;
    this.frameTime[1] = 0;
    this.frameTime[2] = 0;
    this.submittedPerFrame[i] = this.frameSubmitted;
    this.resultsPerFrame[i] = this.frameResults;
    this.framesRecorded++;
    this.frameSubmitted = 0;
    this.frameResults = 0;
  }

  /** Ends the run's last frame so its metrics count. Call once after the last step. */
  endRun(): void {
    this.notApplying('endRun');
    this.submitQueue();
    this.closeFrame();
    this.frame = -1;
    this.throwPassError();
  }

  /** Summary of the run so far. Allocates; call outside the frame path. */
  metrics(): SyncMetrics {
    const n = Math.min(this.framesRecorded, this.historyFrames);
    const ms = Array.from(this.engineMs.subarray(0, n)).sort((a, b) => a - b);
    const sub = Array.from(this.submitMs.subarray(0, n)).sort((a, b) => a - b);
    const own = Array.from(this.engineMs.subarray(0, n), (v, i) => v - this.fallbackMs[i]).sort((a, b) => a - b);
    const pct = (q: number, a = ms): number => (n === 0 ? 0 : a[Math.min(n - 1, Math.floor(q * n))]);
    const sum = (a: Int32Array): number => a.subarray(0, n).reduce((s, v) => s + v, 0);
    const max = (a: Int32Array): number => a.subarray(0, n).reduce((s, v) => (v > s ? v : s), 0);
    const b = (a: Float64Array): FrameBuckets => ({ '0': a[0], '1': a[1], '2': a[2], later: a[3] });
    const byKind: Record<string, { submitted: number; applied: number; superseded: number }> = {};
    for (const ch of this.channels) byKind[ch.name] = { submitted: ch.submitted, applied: ch.applied, superseded: ch.superseded };
    const applied = this.appliedAfter[0] + this.appliedAfter[1] + this.appliedAfter[2] + this.appliedAfter[3];
    // Dropped results count as misses: the share is of every result that came back or should have.
    const outcomes = applied + this.droppedStale + this.droppedFailed;
    return {
      frames: n,
      jobs: { submitted: this.submitted, applied: this.applied, rejected: this.rejected, superseded: this.supersededJobs, by_kind: byKind },
      applied_after_frames: b(this.appliedAfter),
      arrived_after_frames: b(this.arrivedAfter),
      applied_within_2_frames: outcomes === 0 ? 1 : (applied - this.appliedAfter[3]) / outcomes,
      inline_fallbacks: this.inlineFallbacks,
      lost_fallbacks: this.lostFallbacks,
      dropped_stale: this.droppedStale,
      dropped_failed: this.droppedFailed,
      superseded_results_ignored: this.supersededResults,
      missed_deadlines: this.inlineFallbacks + this.lostFallbacks + this.droppedStale,
      jobs_per_frame: { mean: n ? sum(this.submittedPerFrame) / n : 0, max: max(this.submittedPerFrame) },
      results_per_frame: { mean: n ? sum(this.resultsPerFrame) / n : 0, max: max(this.resultsPerFrame) },
      engine_ms_per_frame: { p50: pct(0.5), p99: pct(0.99), max: n ? ms[n - 1] : 0, mean: n ? ms.reduce((s, v) => s + v, 0) / n : 0 },
      engine_ms_per_frame_without_fallbacks: { p50: pct(0.5, own), p99: pct(0.99, own), max: n ? own[n - 1] : 0 },
      fallback_ms_total: this.fallbackMs.subarray(0, n).reduce((s, v) => s + v, 0),
      submit_ms_per_frame: { p50: pct(0.5, sub), p99: pct(0.99, sub), max: n ? sub[n - 1] : 0 },
      frames_engine_over_1ms: ms.filter((v) => v > 1).length,
    };
  }
}

/** What FrameSync.metrics() reports: frame-latency distribution, fallbacks, drops, per-frame work. */
export interface SyncMetrics {
  frames: number;
  jobs: { submitted: number; applied: number; rejected: number; superseded: number; by_kind: Record<string, { submitted: number; applied: number; superseded: number }> };
  applied_after_frames: FrameBuckets;
  arrived_after_frames: FrameBuckets;
  applied_within_2_frames: number;
  inline_fallbacks: number;
  lost_fallbacks: number;
  dropped_stale: number;
  dropped_failed: number;
  superseded_results_ignored: number;
  missed_deadlines: number;
  jobs_per_frame: { mean: number; max: number };
  results_per_frame: { mean: number; max: number };
  engine_ms_per_frame: { p50: number; p99: number; max: number; mean: number };
  engine_ms_per_frame_without_fallbacks: { p50: number; p99: number; max: number };
  fallback_ms_total: number;
  /** The engine.submit part of engine_ms_per_frame. */
  submit_ms_per_frame: { p50: number; p99: number; max: number };
  frames_engine_over_1ms: number;
}
