/**
 * Kinds every engine has: the trivial job used to measure per-job overhead, and the
 * seed stress test's COMPUTE_HEAVY job (10 iterations of arithmetic over 50 numbers).
 */
import { defineKind } from './kind.js';

/** Returns its two inputs' sum. The unit of per-job overhead. */
export const noopKind = defineKind({
  name: 'noop',
  params: [
    { name: 'a', type: 'f64' },
    { name: 'b', type: 'f64' },
  ],
  results: ['sum'],
  run(p, out) {
    out[0] = p[0] + p[1];
  },
});

/**
 * The seed's COMPUTE_HEAVY job: `iterations` passes of arithmetic over a 50-element
 * array seeded from `seed`. Deterministic; the result is a checksum of the array.
 */
const heavyData = new Float64Array(50);
export const computeHeavyKind = defineKind({
  name: 'compute-heavy',
  params: [
    { name: 'seed', type: 'i32' },
    { name: 'iterations', type: 'i32', min: 0, max: 100_000 },
  ],
  results: ['checksum'],
  run(p, out) {
    const seed = p[0] | 0;
    const iterations = p[1] | 0;
    for (let i = 0; i < 50; i++) heavyData[i] = (seed + i) % 97;
    for (let it = 0; it < iterations; it++) {
      for (let i = 0; i < 50; i++) {
        const x = heavyData[i];
        heavyData[i] = Math.sqrt(x * x + it * 0.5) * 1.0001 + Math.sin(x) * 0.01;
      }
    }
    let sum = 0;
    for (let i = 0; i < 50; i++) sum += heavyData[i];
    out[0] = sum;
  },
});

/** Does nothing: the job EngineCore.combine submits to stand for a group of prerequisites. */
export const barrierKind = defineKind({
  name: 'barrier',
  params: [],
  results: [],
  run() {},
});

export const kinds = [noopKind, computeHeavyKind, barrierKind] as const;
