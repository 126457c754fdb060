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
import { EngineError } from './errors.js';

/** Inline parameter types. `i32` values must be integers in int32 range; `f64` must not be NaN. */
export type ParamType = 'i32' | 'f64';

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
  readonly arenaU8: Uint8Array;
  readonly arenaI32: Int32Array;
  readonly arenaF32: Float32Array;
  readonly arenaF64: Float64Array;
}

export interface JobKindSpec<S> {
  /** Unique name, e.g. `path` or `physics.predict`. */
  readonly name: string;
  readonly params: readonly ParamSpec[];
  /** Names of the inline result values (at most MAX_RESULTS). */
  readonly results: readonly string[];
  /**
   * Bytes of arena this job needs for its payload, computed at submit on the main
   * thread from its params (for results too big to travel inline). Return 0 for none.
   * A submit that passes its own arena slice overrides this.
   */
  readonly arenaBytes?: (params: ArrayLike<number>) => number;
  /** Largest arena payload this kind accepts; bigger ones are rejected `payload-too-large`. */
  readonly maxArenaBytes?: number;
  /** Default deadline, in frames after the submit frame; undefined: no deadline. */
  readonly deadlineFrames?: number;
  /** Runs once per worker (and once inline) before any job of this kind. */
  readonly init?: (env: WorkerEnv) => S | Promise<S>;
  /** Runs the job: read `params`, write `out`, use `ctx` for the arena and state. */
  readonly run: (params: Float64Array, out: Float64Array, ctx: JobContext<S>) => void;
  /** Runs once per worker at shutdown. */
  readonly cleanup?: (state: S) => void;
}

export interface JobKind<S = unknown> extends JobKindSpec<S> {
  readonly __kind: true;
}

const NAME_RE = /^[a-z][a-z0-9_.-]{0,62}$/i;

/** Declares a kind. Throws EngineError('INVALID_KIND') if the declaration is malformed. */
export function defineKind<S = undefined>(spec: JobKindSpec<S>): JobKind<S> {
  const fail = (msg: string): never => {
    throw new EngineError('INVALID_KIND', `kind ${JSON.stringify(spec?.name)}: ${msg}`);
  };
  if (typeof spec !== 'object' || spec === null) fail('spec must be an object');
  if (typeof spec.name !== 'string' || !NAME_RE.test(spec.name)) fail('name must match ' + NAME_RE);
  if (!Array.isArray(spec.params) || spec.params.length > MAX_PARAMS) fail(`params must be an array of at most ${MAX_PARAMS}`);
  for (const p of spec.params) {
    if (typeof p?.name !== 'string' || (p.type !== 'i32' && p.type !== 'f64')) fail('each param needs a name and type i32|f64');
  }
  if (!Array.isArray(spec.results) || spec.results.length > MAX_RESULTS) fail(`results must be an array of at most ${MAX_RESULTS}`);
  if (typeof spec.run !== 'function') fail('run must be a function');
  return Object.freeze({ ...spec, __kind: true as const });
}

/** What a kind module exports. */
export interface KindModule {
  readonly kinds: readonly JobKind<any>[];
}
