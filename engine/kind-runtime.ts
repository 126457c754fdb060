/**
 * A kind's per-thread runtime: its init state and the reused buffers its jobs run with.
 * Built once per thread (each worker, and the engine's own thread for inline runs).
 */
import { EngineError } from './errors.js';
import { describeThrown } from './error-text.js';
import type { JobContext, JobKind, WorkerEnv } from './kind.js';
import type { ArenaViews } from './layout.js';

/** Per-kind state and reusable buffers, built once per thread by `initKinds`. */
export interface KindRuntime {
  readonly kind: JobKind<any>;
  readonly params: Float64Array;
  readonly ctx: JobContext<unknown>;
}

/**
 * Runs every kind's init once for this thread, in order. Kinds without init get state
 * undefined. An init that throws or rejects is reported as EngineError('WORKER_INIT_FAILED')
 * naming the kind; the inits that had finished are cleaned up again.
 */
export async function initKinds(kinds: readonly JobKind<any>[], env: WorkerEnv, arena: ArenaViews): Promise<KindRuntime[]> {
  const out: KindRuntime[] = [];
  for (const kind of kinds) {
    let state: unknown;
    try {
      state = kind.init ? await kind.init(env) : undefined;
    } catch (err) {
      cleanupKinds(out);
      const d = describeThrown(err);
      const e = new EngineError('WORKER_INIT_FAILED', `init of kind ${JSON.stringify(kind.name)} failed: ${d.message}`);
      if (d.stack) e.stack = d.stack;
      throw e;
    }
    out.push({
      kind,
      params: new Float64Array(kind.params.length),
      ctx: {
        state,
        env,
        jobId: 0,
        tag: 0,
        submitFrame: 0,
        arenaOffset: 0,
        arenaBytes: 0,
        rangeStart: 0,
        rangeEnd: 1,
        arenaU8: arena.u8,
        arenaI32: arena.i32,
        arenaF32: arena.f32,
        arenaF64: arena.f64,
      },
    });
  }
  return out;
}

/** Runs every kind's cleanup; one that throws does not keep the others from running. */
export function cleanupKinds(runtimes: readonly KindRuntime[]): void {
  for (const rt of runtimes) {
    try {
      rt.kind.cleanup?.(rt.ctx.state);
    } catch {
      // A failing cleanup must not keep the others from running at shutdown.
    }
  }
}
