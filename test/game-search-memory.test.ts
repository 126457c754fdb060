import { describe, expect, test } from 'vitest';
import PF from 'pathfinding';
import { AStar, DistanceField } from '../kinds/grid/astar.js';
import { createNavGrid, generateLevel, mulberry32, randomGrid, type NavGrid } from '../game/grid.js';
import { distancesKind, pathKind } from '../game/kinds.js';
import { SearchScratch } from '../kinds/grid/search-scratch.js';
import type { WorkerEnv } from '../engine/kind.js';
import { freeCell } from './fixtures/grid-paths.js';

/**
 * Bytes of every typed array reachable from `roots` (own properties, recursively), each
 * backing buffer counted once, the shared nav buffer left out: what a thread allocates
 * for its search state, whatever fields the classes grow later.
 */
function typedArrayBytes(roots: unknown[], exclude: ArrayBufferLike): number {
  const buffers = new Set<ArrayBufferLike>();
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (v.buffer !== exclude) buffers.add(v.buffer);
      return;
    }
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
      if (v !== exclude) buffers.add(v);
      return;
    }
    for (const k of Object.getOwnPropertyNames(v)) visit((v as Record<string, unknown>)[k]);
  };
  for (const r of roots) visit(r);
  let sum = 0;
  for (const b of buffers) sum += b.byteLength;
  return sum;
}

function envFor(grid: NavGrid): WorkerEnv {
  return { workerIndex: 0, shared: { nav: grid.sab }, config: {} };
}

describe('search memory per thread', () => {
  for (const [w, h] of [[64, 64], [256, 256], [1491, 656], [4096, 4096]] as const) {
    test(`the path and distances kinds' state for ${w} x ${h} is at most 12 bytes per cell`, async () => {
      const grid = createNavGrid(w, h);
      const env = envFor(grid);
      // What a worker's init builds: the two search kinds' states share one scratch.
      const astar = (await pathKind.init!(env)) as AStar;
      const field = (await distancesKind.init!(env)) as DistanceField;
      expect(field.scratch).toBe(astar.scratch);
      const bytes = typedArrayBytes([astar, field], grid.sab);
      const perCell = bytes / (w * h);
      console.log(`search memory ${w}x${h}: ${bytes} bytes, ${perCell.toFixed(3)} bytes per cell`);
      expect(perCell).toBeLessThanOrEqual(12);
      // The classes' own count agrees with everything reachable from them.
      expect(bytes).toBe(astar.bytes());
    });
  }
});

/** The `pathfinding` package's A*: the oracle cost. */
function oracle(grid: NavGrid, sx: number, sy: number, gx: number, gy: number): number {
  const matrix: number[][] = [];
  for (let y = 0; y < grid.height; y++) matrix.push(Array.from(grid.cells.subarray(y * grid.width, (y + 1) * grid.width)));
  const path = new PF.AStarFinder({ diagonalMovement: PF.DiagonalMovement.OnlyWhenNoObstacles }).findPath(sx, sy, gx, gy, new PF.Grid(matrix));
  if (path.length === 0) return -1;
  let len = 0;
  for (let i = 1; i < path.length; i++) len += Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
  return len;
}

/** Checks the cell path is legal and joins start to goal; returns its cost. */
function pathCost(grid: NavGrid, astar: AStar, sx: number, sy: number, gx: number, gy: number): number {
  const cells = new Int32Array(astar.info.cells);
  const n = astar.writeCells(cells, 0, cells.length);
  expect(n).toBe(astar.info.cells);
  expect(cells[0]).toBe(sy * grid.width + sx);
  expect(cells[n - 1]).toBe(gy * grid.width + gx);
  let cost = 0;
  for (let i = 1; i < n; i++) {
    const ax = cells[i - 1] % grid.width, ay = (cells[i - 1] / grid.width) | 0;
    const bx = cells[i] % grid.width, by = (cells[i] / grid.width) | 0;
    const dx = bx - ax, dy = by - ay;
    expect(grid.isFree(bx, by)).toBe(true);
    expect(Math.max(Math.abs(dx), Math.abs(dy))).toBe(1);
    if (dx !== 0 && dy !== 0) {
      expect(grid.isFree(ax + dx, ay) && grid.isFree(ax, ay + dy)).toBe(true);
      cost += Math.SQRT2;
    } else cost += 1;
  }
  return cost;
}

describe('a full open list', () => {
  test('defers and refills without losing exactness (tiny open list against the oracle)', () => {
    const seed = 0x0be1;
    const rnd = mulberry32(seed);
    let compactions = 0;
    let refills = 0;
    let checked = 0;
    for (let m = 0; m < 40; m++) {
      const w = 20 + Math.floor(rnd() * 60);
      const h = 20 + Math.floor(rnd() * 60);
      const grid = randomGrid(w, h, 0.1 + rnd() * 0.25, seed + m);
      // 16 entries: every search of any size overflows it many times.
      const scratch = new SearchScratch(w * h, 16);
      const astar = new AStar(grid, scratch);
      const field = new DistanceField(grid, scratch);
      const ref = new AStar(grid);
      for (let q = 0; q < 4; q++) {
        const [sx, sy] = freeCell(grid, rnd);
        const [gx, gy] = freeCell(grid, rnd);
        const where = `seed ${seed} map ${m} ${w}x${h} (${sx},${sy})->(${gx},${gy})`;
        const want = oracle(grid, sx, sy, gx, gy);
        for (const jump of [false, true]) {
          const got = jump ? astar.searchJump(sx, sy, gx, gy) : astar.search(sx, sy, gx, gy, true);
          if (want < 0) {
            expect(got, where).toBe(-1);
            continue;
          }
          expect(got, `${jump ? 'jump ' : ''}${where}`).toBeCloseTo(want, 9);
          expect(pathCost(grid, astar, sx, sy, gx, gy)).toBeCloseTo(want, 9);
          checked++;
        }
        // 4-connected too, against the roomy open list.
        expect(astar.search(sx, sy, gx, gy, false), where).toBe(ref.search(sx, sy, gx, gy, false));
        // The distance field over the whole map agrees with A* at the start cell.
        const out = new Float32Array(w * h);
        field.compute(gx, gy, 0, 0, w, h, true, out, 0);
        if (want >= 0) expect(out[sy * w + sx], where).toBeCloseTo(want, 4);
        else expect(out[sy * w + sx], where).toBe(-1);
      }
      compactions += scratch.compactions;
      refills += scratch.refills;
    }
    expect(checked).toBeGreaterThan(150);
    // The paths under test really ran: the list filled and deferred cells came back.
    expect(compactions).toBeGreaterThan(100);
    expect(refills).toBeGreaterThan(100);
  });

  test('the default open list never defers a cell on the game level', () => {
    const grid = generateLevel({ seed: 3 });
    const astar = new AStar(grid);
    const rnd = mulberry32(3);
    for (let q = 0; q < 40; q++) {
      const [sx, sy] = freeCell(grid, rnd);
      const [gx, gy] = freeCell(grid, rnd);
      astar.search(sx, sy, gx, gy, true);
      astar.searchJump(sx, sy, gx, gy);
    }
    // Plain A* fills it now and then with entries a better offer superseded; dropping
    // those is always enough here, so no search falls back to the mark scan.
    expect(astar.scratch.refills).toBe(0);
  });
});

describe('generation stamps', () => {
  test('searches stay exact across the wrap of the generation counter', () => {
    const grid = randomGrid(24, 24, 0.2, 808);
    const astar = new AStar(grid);
    const field = new DistanceField(grid, astar.scratch);
    const ref = new AStar(grid);
    const rnd = mulberry32(808);
    const out = new Float32Array(24 * 24);
    // 2,047 generations per wrap: cross it twice, mixing both users of the scratch.
    let wraps = 0;
    let last = astar.scratch.gen;
    for (let i = 0; i < 4300; i++) {
      const [sx, sy] = freeCell(grid, rnd);
      const [gx, gy] = freeCell(grid, rnd);
      if (i % 3 === 0) field.compute(gx, gy, 0, 0, 24, 24, true, out, 0);
      const got = i % 2 === 0 ? astar.searchJump(sx, sy, gx, gy) : astar.search(sx, sy, gx, gy, true);
      if (astar.scratch.gen < last) wraps++;
      last = astar.scratch.gen;
      if (i % 50 === 0 || astar.scratch.gen <= 3) {
        expect(got, `query ${i}`).toBeCloseTo(ref.search(sx, sy, gx, gy, true), 9);
        if (got >= 0) expect(pathCost(grid, astar, sx, sy, gx, gy)).toBeCloseTo(got, 9);
      }
    }
    expect(wraps).toBeGreaterThanOrEqual(2);
  });

  test('a path is unreadable once another search reuses the scratch', () => {
    const grid = createNavGrid(16, 16);
    const astar = new AStar(grid);
    const field = new DistanceField(grid, astar.scratch);
    expect(astar.searchJump(1, 1, 10, 12)).toBeGreaterThan(0);
    const buf = new Int32Array(64);
    expect(astar.writeWaypoints(buf, 0, 64)).toBe(astar.info.waypoints);
    field.compute(3, 3, 0, 0, 16, 16, true, new Float32Array(256), 0);
    expect(astar.writeWaypoints(buf, 0, 64)).toBe(0);
    expect(astar.writeCells(buf, 0, 64)).toBe(0);
  });

  test('a scratch of the wrong size is refused', () => {
    const code = expect.objectContaining({ code: 'INVALID_OPTION' });
    expect(() => new AStar(createNavGrid(8, 8), new SearchScratch(65))).toThrow(code);
    expect(() => new DistanceField(createNavGrid(8, 8), new SearchScratch(63))).toThrow(code);
    expect(() => new SearchScratch(64, 2)).toThrow(code);
    expect(() => new SearchScratch(0)).toThrow(code);
  });
});
