/**
 * Steering for many agents at once, as one parallel-for job (engine.parallelFor): each
 * chunk of agents reads every agent's position and velocity from the job's arena slice
 * and writes its own agents' steering accelerations back into it. A kind module of its
 * own (`kinds`), so a game adds it beside its other kinds.
 *
 * The slice, float32: [x, y, vx, vy] per agent (count x 4), then [ax, ay] per agent
 * (count x 2), written by the job. Neighbours are the `window` agents on either side in
 * index order (the game keeps agents sorted by cell), so a chunk's work is O(items).
 */
import { defineKind } from '../engine/kind.js';

/** float32 words per agent in, and out. */
export const STEER_IN = 4;
export const STEER_OUT = 2;

export const steerKind = defineKind({
  name: 'steer',
  params: [
    { name: 'count', type: 'i32', min: 0, max: 1 << 20 },
    { name: 'window', type: 'i32', min: 1, max: 64 },
    { name: 'separation', type: 'f64', min: 0 },
    { name: 'alignment', type: 'f64', min: 0 },
  ],
  results: [],
  arenaBytes: (p) => 4 * (STEER_IN + STEER_OUT) * p[0],
  run(p, _out, ctx) {
    const n = p[0];
    const win = p[1];
    const sep = p[2];
    const ali = p[3];
    const f = ctx.arenaF32;
    const base = ctx.arenaOffset >> 2;
    const outBase = base + STEER_IN * n;
    for (let i = ctx.rangeStart; i < ctx.rangeEnd; i++) {
      const xi = f[base + STEER_IN * i];
      const yi = f[base + STEER_IN * i + 1];
      let ax = 0;
      let ay = 0;
      let vx = 0;
      let vy = 0;
      let k = 0;
      const lo = i - win < 0 ? 0 : i - win;
      const hi = i + win >= n ? n - 1 : i + win;
      for (let j = lo; j <= hi; j++) {
        if (j === i) continue;
        const dx = xi - f[base + STEER_IN * j];
        const dy = yi - f[base + STEER_IN * j + 1];
        const d2 = dx * dx + dy * dy + 1e-3;
        // Push apart, harder the closer; steer toward the neighbours' mean heading.
        ax += (sep * dx) / d2;
        ay += (sep * dy) / d2;
        vx += f[base + STEER_IN * j + 2];
        vy += f[base + STEER_IN * j + 3];
        k++;
      }
      if (k > 0) {
        ax += ali * (vx / k - f[base + STEER_IN * i + 2]);
        ay += ali * (vy / k - f[base + STEER_IN * i + 3]);
      }
      f[outBase + STEER_OUT * i] = ax;
      f[outBase + STEER_OUT * i + 1] = ay;
    }
  },
});

export const kinds = [steerKind];
