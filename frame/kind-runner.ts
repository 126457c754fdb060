/**
 * Runs kind handlers directly on the calling thread with a private arena: the game's
 * last-resort path for a deterministic job whose engine job ended without a result
 * (its worker crashed, the submit was rejected), and the way tests call handlers.
 * Its results are bit-identical to a worker's because handlers are pure functions of
 * params, shared data and the arena bytes they are given.
 *
 * Threads: one runner per thread; every method on the thread that created it.
 */
import type { JobContext, JobKind, WorkerEnv } from '../engine/kind.js';
import { MAX_PARAMS, MAX_RESULTS, adoptKind } from '../engine/kind.js';
import { EngineError, shownValue } from '../engine/errors.js';
import { copyPlain } from '../engine/kind-table.js';

interface Entry {
  kind: JobKind<any>;
  ctx: JobContext<any>;
  params: Float64Array;
}

/** KindRunner.paramsProblem's check of `n` values (the kind's count) in a plain Float64Array; past its end a value reads as undefined. */
function specProblem(kind: JobKind<any>, values: Float64Array, n: number): string | null {
  const specs = kind.params;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const spec = specs[i];
    if (v !== v || v === undefined) return `param ${spec.name} of kind ${kind.name} is not a number`;
    if (spec.type === 'i32' && (v | 0) !== v) return `param ${spec.name} of kind ${kind.name} must be an int32, got ${v}`;
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      return `param ${spec.name} of kind ${kind.name} must be in [${spec.min ?? -Infinity}, ${spec.max ?? Infinity}], got ${v}`;
    }
  }
  return null;
}

/**
 * Runs kind handlers on the calling thread with a private arena: the deterministic
 * policy's fallback for a job that ended without a result, and a way to test handlers.
 */
export class KindRunner {
  readonly env: WorkerEnv;
  readonly arenaU8: Uint8Array;
  readonly arenaI32: Int32Array;
  readonly arenaF32: Float32Array;
  readonly arenaF64: Float64Array;
  /** Scratch for results; valid until the next run. */
  readonly out = new Float64Array(MAX_RESULTS);
  private readonly entries: Entry[];
  private readonly byName: Map<string, number>;

  private constructor(env: WorkerEnv, arenaBytes: number, entries: Entry[]) {
    this.env = env;
    const buf = new ArrayBuffer(arenaBytes);
    this.arenaU8 = new Uint8Array(buf);
    this.arenaI32 = new Int32Array(buf);
    this.arenaF32 = new Float32Array(buf);
    this.arenaF64 = new Float64Array(buf);
    this.entries = entries;
    this.byName = new Map(entries.map((e, i) => [e.kind.name, i]));
    for (const e of entries) {
      const ctx = e.ctx as { -readonly [K in keyof JobContext<any>]: JobContext<any>[K] };
      ctx.arenaU8 = this.arenaU8;
      ctx.arenaI32 = this.arenaI32;
      ctx.arenaF32 = this.arenaF32;
      ctx.arenaF64 = this.arenaF64;
    }
  }

  /**
   * Runs every kind's init once, like a worker does at start. Rejects with
   * EngineError INVALID_OPTION (kinds not an array, a bad arena size), INVALID_KIND (an
   * entry not made by defineKind, or one whose fields do not hold) or DUPLICATE_KIND.
   */
  static async create(kinds: readonly JobKind<any>[], env: WorkerEnv, arenaBytes = 1 << 20): Promise<KindRunner> {
    if (!Number.isInteger(arenaBytes) || arenaBytes <= 0 || arenaBytes % 8 !== 0) {
      throw new EngineError('INVALID_OPTION', `KindRunner arenaBytes must be a positive multiple of 8, got ${shownValue(arenaBytes)}`);
    }
    let list: readonly unknown[];
    try {
      if (!Array.isArray(kinds)) throw new TypeError('not an array');
      list = Array.from(kinds as readonly unknown[]);
    } catch (err) {
      throw new EngineError('INVALID_OPTION', 'KindRunner.create needs an array of kinds made by defineKind', { cause: err });
    }
    // Each kind is read and checked once, as the engine registers it; a name twice is
    // refused, as the engine refuses it (indexOf would find only one of them).
    const adopted = list.map((k, i) => adoptKind(k, `kinds[${i}]`));
    const names = new Set<string>();
    for (const k of adopted) {
      if (names.has(k.name)) throw new EngineError('DUPLICATE_KIND', `kind ${JSON.stringify(k.name)} is given twice`);
      names.add(k.name);
    }
    const entries: Entry[] = [];
    for (const kind of adopted) {
      const state: unknown = kind.init ? await kind.init(env) : undefined;
      const empty = new Uint8Array(0);
      entries.push({
        kind,
        params: new Float64Array(kind.params.length),
        ctx: {
          state, env, jobId: -1, tag: 0, submitFrame: 0, arenaOffset: 0, arenaBytes: 0, rangeStart: 0, rangeEnd: 1,
          arenaU8: empty, arenaI32: new Int32Array(0), arenaF32: new Float32Array(0), arenaF64: new Float64Array(0),
        },
      });
    }
    return new KindRunner(env, arenaBytes, entries);
  }

  /** Index of a kind by name; throws EngineError UNKNOWN_KIND. */
  indexOf(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new EngineError('UNKNOWN_KIND', `no kind named ${JSON.stringify(name)} in this runner`);
    return i;
  }

  /** Parameter count of kind `k`. */
  paramCount(k: number): number {
    return this.entry(k, 'paramCount').kind.params.length;
  }

  /**
   * Why the first `n` of `values` are not parameters of kind `k` as the engine's submit
   * checks them (exactly the kind's count; each a number, not NaN, whole for an i32
   * parameter, within its min and max), or null when they are. Reads each value once.
   */
  paramsProblem(k: number, values: ArrayLike<number>, n: number): string | null {
    const e = this.entry(k, 'paramsProblem');
    if (n !== e.kind.params.length) return `kind ${e.kind.name} takes ${e.kind.params.length} params, got ${shownValue(n)}`;
    // Plain Float64Arrays are checked where they are; anything else is read once into a
    // scratch array first. The check's reads then only ever see plain Float64Arrays: a
    // read site that had also seen arrays or Proxies would box every double it loads,
    // and FrameSync.request checks each request through it.
    if (ArrayBuffer.isView(values) && values instanceof Float64Array && Object.getPrototypeOf(values) === Float64Array.prototype) {
      return specProblem(e.kind, values, n);
    }
    const scratch = this.scratch;
    try {
      for (let i = 0; i < n; i++) {
        const v: unknown = values[i];
        if (typeof v !== 'number') return `param ${e.kind.params[i].name} of kind ${e.kind.name} is not a number`;
        scratch[i] = v;
      }
    } catch {
      return `the params of kind ${e.kind.name} could not be read`;
    }
    return specProblem(e.kind, scratch, n);
  }
  private readonly scratch = new Float64Array(MAX_PARAMS);

  /**
   * Runs kind `k` on `params` (its first kind.params.length values, checked as the
   * engine's submit checks them) with the arena slice [0, arenaBytes) of this runner's
   * private arena (default: the kind's own arenaBytes(params)). Write payload inputs into
   * the arena views first; read results from `out` and the arena views afterwards.
   * Throws UNKNOWN_KIND for an index that is not a kind's, INVALID_ARGUMENT for parameters
   * the engine would refuse, INVALID_OPTION for an arena slice this runner cannot give.
   */
  run(k: number, params: ArrayLike<number>, tag = 0, submitFrame = 0, arenaBytes = -1): Float64Array {
    const e = this.entry(k, 'run');
    const n = e.kind.params.length;
    // Each value is read once, into the kind's own buffer, and checked there; the store
    // would convert a string, so the type is checked first.
    let numbers = true;
    // A plain Float64Array (FrameSync's fallback passes one every time) is copied at a site
    // only such arrays reach: the generic reads below, also seeing arrays and Proxies, box
    // every double they load.
    if (ArrayBuffer.isView(params) && params instanceof Float64Array && Object.getPrototypeOf(params) === Float64Array.prototype && params.length >= n) {
      copyPlain(e.params, params, n);
    } else {
      try {
        for (let i = 0; i < n && numbers; i++) {
          const v: unknown = params[i];
          if (typeof v === 'number') e.params[i] = v;
          else numbers = false;
        }
      } catch {
        numbers = false;
      }
    }
    if (!numbers) throw new EngineError('INVALID_ARGUMENT', `KindRunner.run(): the params of kind ${e.kind.name} are not numbers, or reading them threw`);
    const problem = this.paramsProblem(k, e.params, n);
    if (problem !== null) throw new EngineError('INVALID_ARGUMENT', `KindRunner.run(): ${problem}`);
    const bytes = arenaBytes >= 0 ? arenaBytes : e.kind.arenaBytes ? e.kind.arenaBytes(e.params) : 0;
    if (!(bytes >= 0 && bytes <= this.arenaU8.length)) throw new EngineError('INVALID_OPTION', `kind ${e.kind.name} needs ${bytes} arena bytes; this runner has ${this.arenaU8.length}`);
    const ctx = e.ctx;
    ctx.tag = tag;
    ctx.submitFrame = submitFrame;
    ctx.arenaOffset = 0;
    ctx.arenaBytes = bytes;
    this.out.fill(0);
    e.kind.run(e.params, this.out, ctx);
    return this.out;
  }

  private entry(k: number, method: string): Entry {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= this.entries.length) {
      throw new EngineError('UNKNOWN_KIND', `KindRunner.${method}(): no kind at index ${shownValue(k)}`);
    }
    return this.entries[k];
  }

  cleanup(): void {
    for (const e of this.entries) e.kind.cleanup?.(e.ctx.state);
  }
}
