import { beforeAll, describe, expect, test } from 'vitest';
import RAPIER from '@dimforge/rapier3d-compat';
import { AStar } from '../kinds/grid/astar.js';
import { generateLevel, type NavGrid } from '../game/grid.js';
import { KindRunner } from '../frame/kind-runner.js';
import { FIELD_MAX, FIELD_REACHED, PATH_COST, PATH_FOUND, PATH_WAYPOINTS, RAYS_BLOCKED, RAYS_CLEAR, kinds } from '../game/kinds.js';
import { GamePhysics, POSE_STRIDE, PREDICT_HIT, PREDICT_TIME, PREDICT_X, initRapier } from '../game/physics.js';
import { mulberry32 } from '../game/random.js';
import { FRAME_S as FIXED_DT } from '../game/time.js';

let grid: NavGrid;
let runner: KindRunner;

beforeAll(async () => {
  grid = generateLevel({ seed: 21 });
  runner = await KindRunner.create(kinds, { workerIndex: -1, shared: { nav: grid.sab }, config: {} }, 1 << 20);
});

function freeCell(rnd: () => number): [number, number] {
  for (;;) {
    const x = Math.floor(rnd() * grid.width);
    const y = Math.floor(rnd() * grid.height);
    if (grid.isFree(x, y)) return [x, y];
  }
}

describe('path kind', () => {
  test('returns the A* cost and waypoints in its arena slice', () => {
    const PATH = runner.indexOf('path');
    const ref = new AStar(grid);
    const rnd = mulberry32(21);
    let found = 0;
    for (let q = 0; q < 40; q++) {
      const [sx, sy] = freeCell(rnd);
      const [gx, gy] = freeCell(rnd);
      const out = runner.run(PATH, [sx, sy, gx, gy, 64, 1, 1_000_000]);
      const want = ref.search(sx, sy, gx, gy, true);
      if (want < 0) {
        expect(out[PATH_FOUND]).toBe(0);
        continue;
      }
      found++;
      expect(out[PATH_FOUND]).toBe(1);
      expect(out[PATH_COST]).toBe(want);
      const wps = new Int32Array(64);
      const k = ref.writeWaypoints(wps, 0, 64);
      expect(out[PATH_WAYPOINTS]).toBe(k);
      expect(Array.from(runner.arenaI32.subarray(0, k))).toEqual(Array.from(wps.subarray(0, k)));
      // Jump-point mode (the game's): the same cost, possibly another path of that cost.
      expect(runner.run(PATH, [sx, sy, gx, gy, 64, 2, 1_000_000])[PATH_COST]).toBeCloseTo(want, 9);
    }
    expect(found).toBeGreaterThan(30);
  });

  test('never writes past its arena slice', () => {
    const PATH = runner.indexOf('path');
    runner.arenaI32[4] = 0x7ead;
    // Far corners: many turning points, only four fit.
    const out = runner.run(PATH, [2, 2, 250, 250, 4, 1, 1_000_000]);
    expect(out[PATH_FOUND]).toBe(1);
    expect(out[PATH_WAYPOINTS]).toBe(4);
    expect(runner.arenaI32[4]).toBe(0x7ead);
  });
});

describe('distances kind', () => {
  test('fills the window with distances to the target, -1 where unreachable', () => {
    const DIST = runner.indexOf('distances');
    const rnd = mulberry32(5);
    const [tx, ty] = freeCell(rnd);
    const x0 = Math.max(0, tx - 20), y0 = Math.max(0, ty - 20);
    const out = runner.run(DIST, [tx, ty, x0, y0, 40, 40, 1]);
    const f = runner.arenaF32;
    expect(f[(ty - y0) * 40 + (tx - x0)]).toBe(0);
    expect(out[FIELD_REACHED]).toBeGreaterThan(100);
    let reached = 0, max = 0;
    for (let i = 0; i < 1600; i++) {
      const y = y0 + Math.floor(i / 40), x = x0 + (i % 40);
      if (!grid.isFree(x, y)) expect(f[i]).toBe(-1);
      if (f[i] >= 0) {
        reached++;
        max = Math.max(max, f[i]);
      }
    }
    expect(reached).toBe(out[FIELD_REACHED]);
    expect(max).toBeCloseTo(out[FIELD_MAX], 4);
  });

  test('clips a window that runs off the grid and keeps its stride', () => {
    const DIST = runner.indexOf('distances');
    const out = runner.run(DIST, [250, 250, 240, 240, 32, 32, 1]);
    const f = runner.arenaF32;
    expect(out[FIELD_REACHED]).toBeGreaterThan(0);
    expect(f[10 * 32 + 10]).toBe(0); // (250, 250) at window (10, 10)
    for (let y = 0; y < 32; y++) for (let x = 16; x < 32; x++) expect(f[y * 32 + x]).toBe(-1); // x >= 256
  });
});

describe('physics kinds', () => {
  test('predict: a ball dropped above the floor lands when free fall says', () => {
    const PRED = runner.indexOf('physics.predict');
    const [x, y] = freeCell(mulberry32(8));
    const out = runner.run(PRED, [x + 0.5, 5, y + 0.5, 0, 0, 0, 0.25, 120]);
    expect(out[PREDICT_HIT]).toBe(1);
    expect(out[PREDICT_X + 1]).toBeCloseTo(0.25, 2); // centre one radius above the floor
    // Symplectic Euler reaches y = 0.25 a little before the analytic sqrt(2h/g).
    const analytic = Math.sqrt((2 * 4.75) / 9.81);
    expect(out[PREDICT_TIME]).toBeGreaterThan(analytic - 2 * FIXED_DT);
    expect(out[PREDICT_TIME]).toBeLessThan(analytic + FIXED_DT);
  });

  test('predict: a fast horizontal shot hits the nearest wall along its line', () => {
    const PRED = runner.indexOf('physics.predict');
    const rnd = mulberry32(9);
    let checked = 0;
    for (let q = 0; q < 20; q++) {
      const [x, y] = freeCell(rnd);
      const out = runner.run(PRED, [x + 0.5, 1, y + 0.5, 40, 0, 0, 0.1, 30]);
      expect(out[PREDICT_HIT]).toBe(1);
      // The first wall cell along +x in this row.
      let wx = x + 1;
      while (grid.isFree(wx, y)) wx++;
      const hx = out[PREDICT_X];
      const drop = out[PREDICT_X + 1];
      if (drop > 0.15) {
        // Hit the wall face before falling to the floor: centre one radius before it.
        expect(hx).toBeCloseTo(wx - 0.1, 2);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  test('predict agrees with the game world it models', async () => {
    await initRapier();
    const PRED = runner.indexOf('physics.predict');
    const phys = new GamePhysics(grid, { crates: 0, projectiles: 1, seed: 1 });
    const [x, y] = freeCell(mulberry32(10));
    phys.launch(0, x + 0.5, 1.5, y + 0.5, 3, 4, 2);
    const out = runner.run(PRED, [x + 0.5, 1.5, y + 0.5, 3, 4, 2, phys.projectileRadius, 90]);
    expect(out[PREDICT_HIT]).toBe(1);
    // Step the real world to the predicted step and compare where the ball is.
    const steps = Math.ceil(out[PREDICT_TIME] / FIXED_DT);
    for (let i = 0; i < steps; i++) phys.step();
    const d = Math.hypot(phys.poses[0] - out[PREDICT_X], phys.poses[1] - out[PREDICT_X + 1], phys.poses[2] - out[PREDICT_X + 2]);
    expect(d).toBeLessThan(0.5);
    expect(POSE_STRIDE).toBe(7);
    phys.free();
  });

  test('raycasts: rays through walls are blocked, rays inside one free row are clear', () => {
    const RAYS = runner.indexOf('physics.raycasts');
    const f = runner.arenaF32;
    const rnd = mulberry32(12);
    const n = 64;
    const want = new Int8Array(n);
    for (let i = 0; i < n; i++) {
      const [x, y] = freeCell(rnd);
      if (i % 2 === 0) {
        // Along the row to just before the next wall: clear.
        let wx = x;
        while (grid.isFree(wx + 1, y)) wx++;
        f.set([x + 0.5, 0.5, y + 0.5, wx + 0.5, 0.5, y + 0.5], i * 6);
        want[i] = 0;
      } else {
        // Across the next wall to a cell two past it: blocked.
        let wx = x + 1;
        while (grid.isFree(wx, y)) wx++;
        f.set([x + 0.5, 0.5, y + 0.5, wx + 2.5, 0.5, y + 0.5], i * 6);
        want[i] = 1;
      }
    }
    const out = runner.run(RAYS, [n]);
    for (let i = 0; i < n; i++) {
      const t = f[6 * n + i];
      expect(t >= 0 ? 1 : 0, `ray ${i}`).toBe(want[i]);
    }
    expect(out[RAYS_BLOCKED]).toBe(n / 2);
    expect(out[RAYS_CLEAR]).toBe(n / 2);
  });

  test('the prediction world is built once per thread and queries leave it unchanged', async () => {
    const PRED = runner.indexOf('physics.predict');
    const a = Array.from(runner.run(PRED, [10.5, 1, 10.5, 7, 3, -2, 0.2, 200]));
    for (let i = 0; i < 200; i++) runner.run(PRED, [20.5 + (i % 7), 1, 20.5, -5, 2, 9, 0.2, 200]);
    const b = Array.from(runner.run(PRED, [10.5, 1, 10.5, 7, 3, -2, 0.2, 200]));
    expect(b).toEqual(a);
    expect(RAPIER.version()).toMatch(/^0\.21/);
  });
});

describe('bad input', () => {
  test('kinds refuse a missing nav buffer with INVALID_OPTION', async () => {
    await expect(KindRunner.create(kinds, { workerIndex: -1, shared: {}, config: {} })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
  test('unknown kind names are UNKNOWN_KIND', () => {
    expect(() => runner.indexOf('teleport')).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND' }));
  });
  test('a raycast batch bigger than its slice is refused with INVALID_OPTION', () => {
    expect(() => runner.run(runner.indexOf('physics.raycasts'), [100], 0, 0, 64)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
