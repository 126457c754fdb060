/**
 * The kind table: the registered kinds by id and name, their parameter types and
 * declared ranges in typed arrays (so validating a submit touches no object), and the
 * running estimate of each kind's cost that admission control and worker choice use.
 *
 * Main thread only.
 */
import { EngineError } from './errors.js';
import type { JobKind } from './kind.js';
import { MAX_PARAMS } from './kind.js';
import { Rejection } from './outcome.js';

/** Starting estimate of a kind's run time before any job of it has been measured, ms. */
const INITIAL_COST_MS = 0.01;
/** Weight of a new run-time sample in the moving estimate. */
const COST_ALPHA = 0.05;
/** A sample counts for at most this many times the current estimate (plus the floor). */
const COST_OUTLIER = 4;
const COST_FLOOR_MS = 0.02;

const PARAM_F64 = 0;
const PARAM_I32 = 1;

const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** The intrinsic length of a typed array, whatever its class says `length` is. */
export const typedArrayLength = Object.getOwnPropertyDescriptor(typedArrayProto, 'length')!.get as (this: ArrayBufferView) => number;
const typedArrayBuffer = Object.getOwnPropertyDescriptor(typedArrayProto, 'buffer')!.get as (this: ArrayBufferView) => ArrayBufferLike;
const typedArrayByteOffset = Object.getOwnPropertyDescriptor(typedArrayProto, 'byteOffset')!.get as (this: ArrayBufferView) => number;

/**
 * A Float64Array of any class (a subclass, a kind's createParams() view) as a plain one over
 * the same memory, from its intrinsic buffer, offset and length: reads through it meet one
 * class only, where a site that saw more than four would box every double it read. The
 * array itself when it is plain already; one small object otherwise.
 */
export function plainF64(a: Float64Array, length: number): Float64Array {
  return Object.getPrototypeOf(a) === Float64Array.prototype ? a : new Float64Array(typedArrayBuffer.call(a), typedArrayByteOffset.call(a), length);
}

/** Copies `n` values of a plain Float64Array: its own function, so the site sees only those. */
export function copyPlain(dst: Float64Array, src: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = src[i];
}

export class KindTable {
  readonly list: readonly JobKind<any>[];
  private readonly byName: ReadonlyMap<string, number>;
  /** Parameter count per kind. */
  readonly paramCount: Int32Array;
  /** Per kind, how many result values it declares. */
  readonly resultCount: Int32Array;
  private readonly types: Uint8Array;
  private readonly mins: Float64Array;
  private readonly maxs: Float64Array;
  /** Estimated run time per kind, ms. */
  readonly cost: Float64Array;
  /**
   * Per kind, 1 once its estimate has caught up with a measured run time (a sample within
   * the outlier cap). Until then its cost is a guess, or still climbing towards the truth a
   * few times per sample, and a job of it may be far longer than it says: the dispatcher
   * keeps other jobs away from the worker holding one.
   */
  readonly measured: Uint8Array;
  /** Per kind, its default deadline in frames (NaN: none), for submit without options. */
  readonly deadline: Float64Array;
  /** Per kind, 1 when it asks for an arena slice at submit (arenaBytes). */
  readonly hasArena: Uint8Array;
  /** Per kind, the parameters of its last `readParams`, in the engine's own storage. */
  readonly read: readonly Float64Array[];

  constructor(list: readonly JobKind<any>[], byName: ReadonlyMap<string, number>) {
    this.list = list;
    this.byName = byName;
    const n = list.length;
    this.paramCount = Int32Array.from(list, (k) => k.params.length);
    this.resultCount = Int32Array.from(list, (k) => k.results.length);
    this.types = new Uint8Array(n * MAX_PARAMS);
    this.mins = new Float64Array(n * MAX_PARAMS).fill(-Infinity);
    this.maxs = new Float64Array(n * MAX_PARAMS).fill(Infinity);
    list.forEach((k, id) => {
      k.params.forEach((p, i) => {
        this.types[id * MAX_PARAMS + i] = p.type === 'i32' ? PARAM_I32 : PARAM_F64;
        if (p.min !== undefined) this.mins[id * MAX_PARAMS + i] = p.min;
        if (p.max !== undefined) this.maxs[id * MAX_PARAMS + i] = p.max;
      });
    });
    this.cost = new Float64Array(n).fill(INITIAL_COST_MS);
    this.measured = new Uint8Array(n);
    this.deadline = Float64Array.from(list, (k) => (k.deadlineFrames === undefined ? Number.NaN : k.deadlineFrames));
    this.hasArena = Uint8Array.from(list, (k) => (k.arenaBytes === undefined ? 0 : 1));
    this.read = list.map((k) => new Float64Array(k.params.length));
  }

  get size(): number {
    return this.list.length;
  }

  /** True when `kind` is the id of a registered kind. */
  has(kind: number): boolean {
    return (kind | 0) === kind && kind >= 0 && kind < this.list.length;
  }

  /** The id of the kind named `name`. Throws EngineError('UNKNOWN_KIND'). */
  id(name: unknown): number {
    const id = typeof name === 'string' ? this.byName.get(name) : undefined;
    if (id === undefined) {
      const shown = typeof name === 'string' ? JSON.stringify(name) : `a ${typeof name}`;
      throw new EngineError('UNKNOWN_KIND', `no kind named ${shown}; registered: ${[...this.byName.keys()].join(', ')}`);
    }
    return id;
  }

  /**
   * Reads each of `params`' values exactly once into `read[kind]`, then validates the copy:
   * a getter or Proxy cannot show one value to the check and another to the job.
   * Returns 0, or Rejection.BadParams (wrong count, a non-number, NaN, a non-integer i32,
   * a value outside its declared range, or a read that threw).
   */
  readParams(kind: number, params: ArrayLike<number>): 0 | Rejection {
    const n = this.paramCount[kind];
    const dst = this.read[kind];
    // A Float64Array, of any class (a kind's createParams() view is a subclass of its
    // own). The generic reads below, seeing many classes at one site, would each box the
    // value they read. A plain one is copied at a site only plain ones reach; any other by
    // the built-in copy, which reads its memory. Its length is the array's own (a
    // subclass can redefine `length`), and a Proxy is not a view.
    if (ArrayBuffer.isView(params) && params instanceof Float64Array) {
      if (typedArrayLength.call(params) !== n) return Rejection.BadParams;
      if (Object.getPrototypeOf(params) === Float64Array.prototype) copyPlain(dst, params, n);
      else dst.set(params);
      return this.checkRead(kind);
    }
    try {
      if (params == null || params.length !== n) return Rejection.BadParams;
      for (let i = 0; i < n; i++) {
        const v = params[i];
        if (typeof v !== 'number') return Rejection.BadParams;
        dst[i] = v;
      }
    } catch {
      return Rejection.BadParams;
    }
    return this.checkRead(kind);
  }

  /**
   * Validates the values in `read[kind]` (already in the engine's own storage) as
   * readParams does. Returns 0 or Rejection.BadParams.
   */
  checkRead(kind: number): 0 | Rejection {
    const n = this.paramCount[kind];
    const dst = this.read[kind];
    const base = kind * MAX_PARAMS;
    for (let i = 0; i < n; i++) {
      const v = dst[i];
      if (v !== v) return Rejection.BadParams;
      if (this.types[base + i] === PARAM_I32 && (v | 0) !== v) return Rejection.BadParams;
      if (v < this.mins[base + i] || v > this.maxs[base + i]) return Rejection.BadParams;
    }
    return 0;
  }

  /**
   * Validates the parameters of `count` jobs of `kind`, back to back in `src` (already in
   * the engine's own storage), as checkRead validates one job's. Parameter by parameter,
   * so each one's type and range are read once for all the jobs. Returns 0 or
   * Rejection.BadParams.
   */
  checkMany(kind: number, src: Float64Array, count: number): 0 | Rejection {
    const n = this.paramCount[kind];
    const end = count * n;
    for (let i = 0; i < n; i++) {
      const k = kind * MAX_PARAMS + i;
      const i32 = this.types[k] === PARAM_I32;
      const min = this.mins[k];
      const max = this.maxs[k];
      for (let at = i; at < end; at += n) {
        const v = src[at];
        // NaN fails both comparisons: it is refused by the negated range check.
        if (!(v >= min && v <= max)) return Rejection.BadParams;
        if (i32 && (v | 0) !== v) return Rejection.BadParams;
      }
    }
    return 0;
  }

  /**
   * Folds one measured run time into the kind's estimate. Each sample is clamped to a
   * few times the current estimate: one slow outlier (a cold worker, a preempted thread)
   * must not make a kind look so expensive that admission refuses it for good.
   */
  learn(kind: number, runMs: number): void {
    this.sample[0] = runMs;
    this.learnAt(kind, this.sample, 0);
  }
  private readonly sample = new Float64Array(1);

  /**
   * learn() with the sample at `src[i]`: no double crosses the call, so poll allocates
   * nothing per job even where the optimiser does not inline it (the drain that calls it
   * grows with every path it has seen).
   */
  learnAt(kind: number, src: Float64Array, i: number): void {
    const runMs = src[i];
    // The sample comes from shared memory a worker wrote: one that is not a time (NaN, or
    // negative) would make the estimate NaN or negative for good, and admission with it.
    if (!(runMs >= 0)) return;
    const est = this.cost[kind];
    const cap = est * COST_OUTLIER + COST_FLOOR_MS;
    this.cost[kind] = est + ((runMs > cap ? cap : runMs) - est) * COST_ALPHA;
    if (runMs <= cap) this.measured[kind] = 1;
  }
}
