/**
 * Job kinds: what a job is, how its parameters and results are laid out, and the code
 * that runs it. A kind lives in a module that exports `kinds: readonly JobKind[]`; the
 * engine imports that module on the main thread (to validate submissions and to run
 * jobs inline with `workers: 0`) and in every worker at start-up, so the same handler
 * runs everywhere.
 *
 * Handlers are called with reused buffers: `params` and `out` are the same arrays for
 * every job of a kind on a worker. Read params, write results, keep no reference to
 * either after returning. That is what keeps the run path allocation-free.
 */
import { EngineError, shownValue } from './errors.js';

/** Inline parameter types. `i32` values must be integers in int32 range; `f64` must not be NaN. */
export type ParamType = 'i32' | 'f64';

/** One inline parameter: its name (an identifier) and type. */
export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** Inclusive lower bound, checked at submit. */
  readonly min?: number;
  /** Inclusive upper bound, checked at submit. */
  readonly max?: number;
}

/** Most inline parameters a job record carries; bigger inputs go through the arena. */
export const MAX_PARAMS = 11;
/** Most inline result values a result record carries; bigger results go through the arena. */
export const MAX_RESULTS = 10;

/** What every worker (and the inline runner) hands to a kind's `init`. */
export interface WorkerEnv {
  /** Worker index, or -1 when running inline on the engine's thread. */
  readonly workerIndex: number;
  /** Buffers the game shared with the engine at start (a navigation grid, for example). */
  readonly shared: Readonly<Record<string, SharedArrayBuffer>>;
  /** JSON-safe configuration the game passed at start. */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * Per-job context: reused for every job, never retained by handlers.
 * The arena views cover the whole shared arena; a job owns bytes
 * [arenaOffset, arenaOffset + arenaBytes) for the duration of its run.
 */
export interface JobContext<S> {
  readonly state: S;
  readonly env: WorkerEnv;
  jobId: number;
  tag: number;
  submitFrame: number;
  arenaOffset: number;
  arenaBytes: number;
  /**
   * The items [rangeStart, rangeEnd) this call runs: a chunk of the range of a job submitted
   * with engine.parallelFor (each call its own chunk, on whichever thread claimed it), or
   * [0, 1) for any other job.
   */
  rangeStart: number;
  rangeEnd: number;
  readonly arenaU8: Uint8Array;
  readonly arenaI32: Int32Array;
  readonly arenaF32: Float32Array;
  readonly arenaF64: Float64Array;
}

/** The parameter names of a params declaration, or never when they are not literal types. */
type ParamNames<P extends readonly ParamSpec[]> = string extends P[number]['name'] ? never : P[number]['name'];
/** The result names of a results declaration, or never when they are not literal types. */
type ResultNames<R extends readonly string[]> = string extends R[number] ? never : R[number];

/**
 * A job's parameters: a Float64Array (read `p[0]`) with a named accessor per declared
 * parameter (read `p.ax`). A name the kind does not declare is a compile error.
 */
export type JobParams<P extends readonly ParamSpec[] = readonly ParamSpec[]> = Float64Array & { readonly [K in ParamNames<P>]: number };
/**
 * A job's inline results: a Float64Array (write `out[0]`) with a named accessor per
 * declared result (write `out.d`). A name the kind does not declare is a compile error.
 */
export type JobResults<R extends readonly string[] = readonly string[]> = Float64Array & { [K in ResultNames<R>]: number };
/** Parameters filled by name on the caller's side before submit: see JobKind.createParams. */
export type ParamsBuffer<P extends readonly ParamSpec[] = readonly ParamSpec[]> = Float64Array & { [K in ParamNames<P>]: number };

/**
 * What defineKind takes. `P` and `R` are the literal parameter and result declarations
 * (inferred), so the names reach `run`, `createParams` and `readResults`.
 */
export interface JobKindSpec<S, P extends readonly ParamSpec[] = readonly ParamSpec[], R extends readonly string[] = readonly string[]> {
  /** Unique name, e.g. `path` or `physics.predict`. */
  readonly name: string;
  /** Inline parameters, in order (at most MAX_PARAMS). Names must be identifiers and not Float64Array members. */
  readonly params: P;
  /** Names of the inline result values, in order (at most MAX_RESULTS). Same naming rule as params. */
  readonly results: R;
  /**
   * Bytes of arena this job needs for its payload, computed at submit on the main
   * thread from its params (for results too big to travel inline). Return 0 for none.
   * A submit that passes its own arena slice overrides this. It is given a copy of the
   * checked params (writing to it changes nothing), and a submit made from inside it is
   * refused bad-params; one that throws refuses its own submit bad-params.
   */
  readonly arenaBytes?: (params: ArrayLike<number>) => number;
  /** Largest arena payload this kind accepts; bigger ones are rejected `payload-too-large`. */
  readonly maxArenaBytes?: number;
  /** Default deadline, in frames after the submit frame; undefined: no deadline. */
  readonly deadlineFrames?: number;
  /** Runs once per worker (and once inline) before any job of this kind. */
  readonly init?: (env: WorkerEnv) => S | Promise<S>;
  /**
   * Runs the job: read `params` (by index or by name), write `out` (likewise), use `ctx`
   * for the arena and state. Both are reused for every job: keep no reference to them.
   * Synchronous: the job is what it does before it returns (an async or generator `run`
   * is refused by defineKind; a returned promise fails the job).
   */
  run(params: JobParams<P>, out: JobResults<R>, ctx: JobContext<S>): void;
  /** Runs once per worker at shutdown. */
  readonly cleanup?: (state: S) => void;
}

/** A kind made by defineKind: the declaration, plus typed helpers for the caller's side. */
export interface JobKind<S = unknown, P extends readonly ParamSpec[] = readonly ParamSpec[], R extends readonly string[] = readonly string[]>
  extends JobKindSpec<S, P, R> {
  readonly __kind: true;
  /**
   * Runs one job with plain arrays: the engine (and KindRunner) call this; it hands the
   * handler named views over `params` and `out`.
   */
  run(params: Float64Array, out: Float64Array, ctx: JobContext<S>): void;
  /**
   * A new parameters buffer for this kind, filled by name (`p.ax = 1`) or index and
   * passed to `submit`. Allocates: make one and reuse it for every submit.
   */
  createParams(): ParamsBuffer<P>;
  /**
   * `values` (a ResultView's, for example) read by name: `kind.readResults(r.values).d`.
   * The view aliases `values` and is cached per array, so reading results in a poll
   * callback allocates nothing.
   */
  readResults(values: Float64Array): Readonly<JobResults<R>>;
}

const NAME_RE = /^[a-z][a-z0-9_.-]{0,62}$/i;
const FIELD_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

type NamedArrayClass = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Float64Array;

/**
 * A Float64Array subclass with one accessor per name (`names[i]` reads and writes
 * element i). Made once per kind; its instances are views over someone else's array.
 */
function namedArrayClass(names: readonly string[]): NamedArrayClass {
  class Named extends Float64Array {}
  names.forEach((name, i) => {
    Object.defineProperty(Named.prototype, name, {
      get(this: Float64Array): number {
        return this[i]!;
      },
      set(this: Float64Array, v: number): void {
        this[i] = v;
      },
      enumerable: true,
    });
  });
  return Named as unknown as NamedArrayClass;
}

/**
 * Named views over arrays the engine reuses, cached by the array's identity. A thread
 * hands a kind one params array and one or two result arrays for its whole life (the
 * worker's, the inline runner's, a KindRunner's), so after the first jobs every lookup
 * hits and nothing is allocated.
 */
class ViewCache {
  private readonly src: (Float64Array | null)[] = [null, null, null, null];
  private readonly view: (Float64Array | null)[] = [null, null, null, null];
  private next = 0;
  constructor(private readonly Named: NamedArrayClass) {}
  get(a: Float64Array): Float64Array {
    const src = this.src;
    if (src[0] === a) return this.view[0]!;
    if (src[1] === a) return this.view[1]!;
    if (src[2] === a) return this.view[2]!;
    if (src[3] === a) return this.view[3]!;
    // ALLOCATES: once per distinct array, not per job.
    const v = new this.Named(a.buffer, a.byteOffset, a.length);
    const i = this.next;
    this.next = (i + 1) & 3;
    src[i] = a;
    this.view[i] = v;
    return v;
  }
}

/**
 * A handler returned something. A promise (a plain function returning one, which the
 * declaration check cannot see) means work the job would be reported done without: the
 * job fails instead, and the promise's own rejection is handled here so it cannot take
 * the thread down. Any other value is ignored, as before.
 */
function checkReturn(name: string, ret: unknown): void {
  if ((typeof ret !== 'object' && typeof ret !== 'function') || ret === null) return;
  const then = (ret as { then?: unknown }).then;
  if (typeof then !== 'function') return;
  then.call(ret, undefined, () => {});
  throw new Error(`kind ${name}: run returned a promise; handlers run synchronously, so the work after its first await is not part of the job`);
}

/** A spec's fields, each read once, checked, and copied into plain frozen data. */
interface ReadSpec {
  readonly name: string;
  readonly params: readonly ParamSpec[];
  readonly results: readonly string[];
  readonly run: (...args: never[]) => unknown;
  /** The optional fields that were given, as given once checked. */
  readonly optional: Readonly<Pick<JobKindSpec<unknown>, 'arenaBytes' | 'maxArenaBytes' | 'deadlineFrames' | 'init' | 'cleanup'>>;
}

const OPTIONAL_FUNCTIONS = ['arenaBytes', 'init', 'cleanup'] as const;

/** An array's entries read once (its length too), or null for a non-array or one longer than `max`. May throw (a Proxy). */
function readList(v: unknown, max: number): unknown[] | null {
  if (!Array.isArray(v)) return null;
  const list = v as readonly unknown[];
  const n = list.length;
  if (n > max) return null;
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(list[i]);
  return out;
}

/**
 * Reads a kind spec once: every field, every param's fields and every result name are read
 * a single time (a getter, a Proxy or an array that changes cannot show the check one spec
 * and the engine another) and checked. Throws EngineError('INVALID_KIND'); a read that
 * throws is refused with the thrown value as the error's `cause`.
 */
function readKindSpec(spec: unknown): ReadSpec {
  let shownName = 'a kind';
  const fail = (msg: string, cause?: unknown): never => {
    throw new EngineError('INVALID_KIND', `${shownName}: ${msg}`, cause === undefined ? undefined : { cause });
  };
  if (typeof spec !== 'object' || spec === null) return fail('spec must be an object');
  const raw: Record<string, unknown> = {};
  try {
    const o = spec as Record<string, unknown>;
    for (const key of ['name', 'params', 'results', 'run', 'arenaBytes', 'maxArenaBytes', 'deadlineFrames', 'init', 'cleanup']) raw[key] = o[key];
  } catch (err) {
    return fail('the spec could not be read', err);
  }
  const name = raw['name'];
  if (typeof name !== 'string' || !NAME_RE.test(name)) return fail('name must match ' + NAME_RE);
  shownName = `kind ${JSON.stringify(name)}`;
  const params: ParamSpec[] = [];
  const results: string[] = [];
  try {
    for (const p of readList(raw['params'], MAX_PARAMS) ?? fail(`params must be an array of at most ${MAX_PARAMS}`)) {
      if (typeof p !== 'object' || p === null) return fail('each param needs a name and type i32|f64');
      const q = p as Record<string, unknown>;
      const pName = q['name'];
      const type = q['type'];
      const min = q['min'];
      const max = q['max'];
      if (typeof pName !== 'string' || (type !== 'i32' && type !== 'f64')) return fail('each param needs a name and type i32|f64');
      for (const [bound, v] of [['min', min], ['max', max]] as const) {
        if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) return fail(`param ${JSON.stringify(pName)}: ${bound} must be a number, got ${shownValue(v)}`);
      }
      if (typeof min === 'number' && typeof max === 'number' && min > max) return fail(`param ${JSON.stringify(pName)}: min ${min} is above max ${max}`);
      params.push(Object.freeze({ name: pName, type, ...(min === undefined ? {} : { min: min as number }), ...(max === undefined ? {} : { max: max as number }) }));
    }
    for (const r of readList(raw['results'], MAX_RESULTS) ?? fail(`results must be an array of at most ${MAX_RESULTS}`)) {
      if (typeof r !== 'string') return fail(`result name ${shownValue(r)} must be an identifier`);
      results.push(r);
    }
  } catch (err) {
    if (err instanceof EngineError) throw err;
    return fail('the params or results could not be read', err);
  }
  for (const [what, names] of [['param', params.map((p) => p.name)], ['result', results]] as const) {
    const seen = new Set<string>();
    for (const n of names) {
      if (!FIELD_RE.test(n)) fail(`${what} name ${JSON.stringify(n)} must be an identifier`);
      if (n in Float64Array.prototype) fail(`${what} name ${JSON.stringify(n)} is a Float64Array member; choose another`);
      if (seen.has(n)) fail(`${what} name ${JSON.stringify(n)} appears twice`);
      seen.add(n);
    }
  }
  const run = raw['run'];
  if (typeof run !== 'function') return fail('run must be a function');
  // A job is the handler's synchronous run: an async or generator function returns before
  // its body is done (or started), and the job would be reported done without it.
  let runTag = '';
  try {
    runTag = Object.prototype.toString.call(run);
  } catch (err) {
    fail('run could not be read', err);
  }
  if (runTag !== '[object Function]') fail(`run must be a plain synchronous function, got ${runTag.slice(8, -1)} (a job is what run does before it returns)`);
  const optional: Record<string, unknown> = {};
  for (const key of OPTIONAL_FUNCTIONS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'function') fail(`${key} must be a function, got ${shownValue(v)}`);
    optional[key] = v;
  }
  const deadline = raw['deadlineFrames'];
  if (deadline !== undefined) {
    if (typeof deadline !== 'number' || !(deadline >= 0)) fail(`deadlineFrames must be a number of frames >= 0, got ${shownValue(deadline)}`);
    optional['deadlineFrames'] = deadline;
  }
  const maxArena = raw['maxArenaBytes'];
  if (maxArena !== undefined) {
    if (typeof maxArena !== 'number' || !(maxArena >= 0)) fail(`maxArenaBytes must be a number of bytes >= 0, got ${shownValue(maxArena)}`);
    optional['maxArenaBytes'] = maxArena;
  }
  return {
    name,
    params: Object.freeze(params),
    results: Object.freeze(results),
    run: run as (...args: never[]) => unknown,
    optional: optional as ReadSpec['optional'],
  };
}

/**
 * Declares a kind. Throws EngineError('INVALID_KIND') if the declaration is malformed.
 *
 * The parameter and result names are inferred as literal types, so `run(p, out)` can
 * read `p.ax` and write `out.d`, and a name the kind does not declare is a compile
 * error; the positional form (`p[0]`, `out[0]`) works as well. Naming costs nothing per
 * job: the named arrays are views over the engine's own reused arrays.
 * (Giving the state type explicitly, `defineKind<State>(...)`, turns the name inference
 * off; annotate `init`'s return type instead.)
 */
export function defineKind<S = undefined, const P extends readonly ParamSpec[] = readonly ParamSpec[], const R extends readonly string[] = readonly string[]>(
  spec: JobKindSpec<S, P, R>,
): JobKind<S, P, R> {
  const k = readKindSpec(spec);
  const paramNames = k.params.map((p) => p.name);
  const resultNames = k.results;
  const ParamsClass = namedArrayClass(paramNames);
  const ResultsClass = namedArrayClass(resultNames);
  const paramViews = new ViewCache(ParamsClass);
  const resultViews = new ViewCache(ResultsClass);
  const readViews = new ViewCache(ResultsClass);
  const userRun = k.run as JobKindSpec<S, P, R>['run'];
  const name = k.name;
  return made(Object.freeze({
    ...(k.optional as Pick<JobKindSpec<S, P, R>, 'arenaBytes' | 'maxArenaBytes' | 'deadlineFrames' | 'init' | 'cleanup'>),
    name,
    params: k.params as unknown as P,
    results: k.results as unknown as R,
    __kind: true as const,
    run(params: Float64Array, out: Float64Array, ctx: JobContext<S>): void {
      const ret: unknown = userRun(paramViews.get(params) as JobParams<P>, resultViews.get(out) as JobResults<R>, ctx);
      if (ret !== undefined) checkReturn(name, ret);
    },
    createParams: (): ParamsBuffer<P> => {
      const a = new Float64Array(paramNames.length);
      return new ParamsClass(a.buffer, 0, a.length) as ParamsBuffer<P>;
    },
    readResults: (values: Float64Array): Readonly<JobResults<R>> => readViews.get(values) as JobResults<R>,
  }));
}

/** The kinds defineKind made in this copy of the module: frozen, their fields checked once. */
const madeKinds = new WeakSet<object>();

const made = <K extends object>(kind: K): K => {
  madeKinds.add(kind);
  return kind;
};

/**
 * A kind as the engine registers it. One made by this module's defineKind is used as it
 * is. Anything else that says it is a kind (`__kind`), one made by another copy of this
 * package (a bundle of its own, a kind module loaded by URL) or an object written by hand,
 * is read once, field by field, checked as defineKind checks a spec, and copied into a
 * frozen kind. Throws EngineError('INVALID_KIND'), naming `where`, never the value's own
 * error (that is the `cause`).
 */
export function adoptKind(k: unknown, where: string): JobKind<any, any, any> {
  if (typeof k === 'object' && k !== null && madeKinds.has(k)) return k as JobKind<any, any, any>;
  let brand: unknown;
  let createParams: unknown;
  let readResults: unknown;
  try {
    if (typeof k === 'object' && k !== null) {
      const o = k as Record<string, unknown>;
      brand = o['__kind'];
      createParams = o['createParams'];
      readResults = o['readResults'];
    }
  } catch (err) {
    throw new EngineError('INVALID_KIND', `${where} could not be read`, { cause: err });
  }
  if (brand !== true || typeof createParams !== 'function' || typeof readResults !== 'function') {
    throw new EngineError('INVALID_KIND', `${where} was not made by defineKind`);
  }
  const read = readKindSpec(k);
  return made(
    Object.freeze({
      ...(read.optional as Pick<JobKind<unknown>, 'arenaBytes' | 'maxArenaBytes' | 'deadlineFrames' | 'init' | 'cleanup'>),
      name: read.name,
      params: read.params,
      results: read.results,
      __kind: true as const,
      run: read.run as JobKind<unknown>['run'],
      createParams: createParams as JobKind<unknown>['createParams'],
      readResults: readResults as JobKind<unknown>['readResults'],
    }),
  );
}

/** What a kind module exports. */
export interface KindModule {
  readonly kinds: readonly JobKind<any, any, any>[];
}
