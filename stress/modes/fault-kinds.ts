/**
 * Job kinds that misbehave on purpose, for `--mode chaos`. A kind module like any
 * other: the engine imports it on the main thread and in every worker, so the faults
 * happen inside real worker threads exactly as a buggy game kind's would.
 */
import { defineKind } from '../../engine/kind.js';

/**
 * Never returns: blocks its worker's thread in Atomics.wait on a word nobody notifies,
 * the way a deadlocked handler would. Blocking rather than spinning keeps a 2-core
 * machine usable while the engine notices the silent heartbeat and replaces the worker.
 * `limitMs` bounds the wait so that a run with `workers: 0`, where this would block the
 * engine's own thread, ends (inline there is no one else to recover it).
 */
const never = new Int32Array(new SharedArrayBuffer(4));
export const hangKind = defineKind({
  name: 'chaos.hang',
  params: [{ name: 'limitMs', type: 'f64', min: 0, max: 3_600_000 }],
  results: [],
  run(p, _out, ctx) {
    // ORDERING: nothing ever stores to or notifies `never`; the wait only ends by timeout.
    Atomics.wait(never, 0, 0, ctx.env.workerIndex < 0 ? 0 : p[0]);
  },
});

/** Throws, like a handler with a bug; its error (with the worker's stack) reaches poll as `failed`. */
export const throwKind = defineKind({
  name: 'chaos.throw',
  params: [{ name: 'code', type: 'i32' }],
  results: [],
  run(p) {
    throw new Error(`chaos.throw: injected failure ${p[0] | 0}`);
  },
});

export const kinds = [hangKind, throwKind] as const;
