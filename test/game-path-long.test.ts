import { describe, expect, test } from 'vitest';
import { AStar } from '../kinds/grid/astar.js';
import { CELL_FREE, CELL_WALL, createNavGrid, mulberry32, type NavGrid } from '../game/grid.js';
import { KindRunner } from '../frame/kind-runner.js';
import { perfectMaze } from './fixtures/grid-paths.js';
import {
  MAX_WAYPOINTS, PATH_CELLS, PATH_COST, PATH_FOUND, PATH_MOVES_4, PATH_MOVES_8, PATH_MOVES_8_JUMP,
  PATH_TOTAL_WAYPOINTS, PATH_TRUNCATED, PATH_WAYPOINTS, kinds,
} from '../game/kinds.js';

/**
 * A one-cell-wide staircase from (1, 1) to (k, k): right, down, right, down... Diagonal
 * moves would cut a wall corner, so the only path turns at every cell: 2k - 1 cells,
 * all of them waypoints, cost 2k - 2.
 */
function staircase(k: number): NavGrid {
  const grid = createNavGrid(k + 2, k + 2);
  grid.cells.fill(CELL_WALL);
  const W = grid.width;
  for (let i = 1; i <= k; i++) {
    grid.cells[i * W + i] = CELL_FREE;
    if (i < k) grid.cells[i * W + i + 1] = CELL_FREE;
  }
  return grid;
}

/** Turning points of a cell path, counted independently of AStar. */
function turningPoints(cells: Int32Array, n: number): number {
  if (n === 1) return 1;
  let k = 2;
  for (let i = 1; i < n - 1; i++) if (cells[i] - cells[i - 1] !== cells[i + 1] - cells[i]) k++;
  return k;
}

async function runnerFor(grid: NavGrid): Promise<KindRunner> {
  // The path kind alone: the physics kinds would build a Rapier scene for nothing.
  const path = kinds.filter((k) => k.name === 'path');
  return KindRunner.create(path, { workerIndex: -1, shared: { nav: grid.sab }, config: {} }, 4 * MAX_WAYPOINTS);
}

describe('long paths', () => {
  test('a staircase of 1,999 turns comes back whole, last point the goal', async () => {
    const k = 1000;
    const grid = staircase(k);
    const W = grid.width;
    const runner = await runnerFor(grid);
    const PATH = runner.indexOf('path');
    for (const moves of [PATH_MOVES_4, PATH_MOVES_8, PATH_MOVES_8_JUMP]) {
      const out = runner.run(PATH, [1, 1, k, k, MAX_WAYPOINTS, moves, 0x7fffffff]);
      expect(out[PATH_FOUND]).toBe(1);
      expect(out[PATH_COST]).toBe(2 * k - 2);
      expect(out[PATH_CELLS]).toBe(2 * k - 1);
      expect(out[PATH_TOTAL_WAYPOINTS]).toBe(2 * k - 1);
      expect(out[PATH_WAYPOINTS]).toBe(2 * k - 1);
      expect(out[PATH_TRUNCATED]).toBe(0);
      const a = runner.arenaI32;
      expect(a[0]).toBe(W + 1);
      expect(a[2 * k - 2]).toBe(k * W + k);
      // Every cell of the staircase, in order.
      for (let i = 0; i < 2 * k - 1; i++) expect(a[i]).toBe(((i + 2) >> 1) * W + ((i + 1) >> 1) + 1);
    }
  });

  test('a short slice is marked truncated, carries the true count, and the rest follows from its end', async () => {
    const k = 1000;
    const grid = staircase(k);
    const W = grid.width;
    const runner = await runnerFor(grid);
    const PATH = runner.indexOf('path');
    const canary = 0x7ead;
    runner.arenaI32[1024] = canary;
    const out = runner.run(PATH, [1, 1, k, k, 1024, PATH_MOVES_8_JUMP, 0x7fffffff]);
    expect(out[PATH_FOUND]).toBe(1);
    expect(out[PATH_TRUNCATED]).toBe(1);
    expect(out[PATH_WAYPOINTS]).toBe(1024);
    expect(out[PATH_TOTAL_WAYPOINTS]).toBe(2 * k - 1);
    expect(runner.arenaI32[1024]).toBe(canary);
    const last = runner.arenaI32[1023];
    expect(last).not.toBe(k * W + k);
    // Continue from the last waypoint: the remainder, ending at the goal.
    const rest = runner.run(PATH, [last % W, (last / W) | 0, k, k, MAX_WAYPOINTS, PATH_MOVES_8_JUMP, 0x7fffffff]);
    expect(rest[PATH_TRUNCATED]).toBe(0);
    expect(rest[PATH_TOTAL_WAYPOINTS]).toBe(2 * k - 1 - 1023);
    expect(runner.arenaI32[rest[PATH_WAYPOINTS] - 1]).toBe(k * W + k);
  });

  test('seeded mazes: the waypoint count is the path\'s turning points and the last one is the goal', async () => {
    const seed = 0x3a2e;
    const grid = perfectMaze(120, mulberry32(seed));
    const W = grid.width;
    const runner = await runnerFor(grid);
    const PATH = runner.indexOf('path');
    const ref = new AStar(grid);
    const rnd = mulberry32(seed);
    const cells = new Int32Array(W * W);
    let long = 0;
    for (let q = 0; q < 30; q++) {
      const sx = 2 * Math.floor(rnd() * 120) + 1, sy = 2 * Math.floor(rnd() * 120) + 1;
      const gx = 2 * Math.floor(rnd() * 120) + 1, gy = 2 * Math.floor(rnd() * 120) + 1;
      const where = `seed ${seed} (${sx},${sy})->(${gx},${gy})`;
      const want = ref.search(sx, sy, gx, gy, true);
      expect(want, where).toBeGreaterThanOrEqual(0); // a perfect maze connects every pair
      const n = ref.writeCells(cells, 0, cells.length);
      const turns = turningPoints(cells, n);
      const out = runner.run(PATH, [sx, sy, gx, gy, MAX_WAYPOINTS, PATH_MOVES_8_JUMP, 0x7fffffff]);
      expect(out[PATH_COST], where).toBe(want);
      expect(out[PATH_CELLS], where).toBe(n);
      expect(out[PATH_TOTAL_WAYPOINTS], where).toBe(turns);
      expect(out[PATH_WAYPOINTS], where).toBe(turns);
      expect(out[PATH_TRUNCATED], where).toBe(0);
      expect(runner.arenaI32[0], where).toBe(sy * W + sx);
      expect(runner.arenaI32[turns - 1], where).toBe(gy * W + gx);
      if (turns > 1024) long++;
      // With the old 1,024 cap: truncated, the true count still reported.
      const capped = runner.run(PATH, [sx, sy, gx, gy, 1024, PATH_MOVES_8_JUMP, 0x7fffffff]);
      expect(capped[PATH_TRUNCATED], where).toBe(turns > 1024 ? 1 : 0);
      expect(capped[PATH_WAYPOINTS], where).toBe(Math.min(turns, 1024));
      expect(capped[PATH_TOTAL_WAYPOINTS], where).toBe(turns);
    }
    // The sample holds paths past the old 1,024-waypoint cut.
    expect(long).toBeGreaterThan(5);
  });

  test('not found reports no waypoints and no truncation', async () => {
    const grid = staircase(10);
    grid.cells[5 * grid.width + 6] = CELL_WALL; // break the stairs
    const runner = await runnerFor(grid);
    const out = runner.run(runner.indexOf('path'), [1, 1, 10, 10, 64, PATH_MOVES_8_JUMP, 0x7fffffff]);
    expect(out[PATH_FOUND]).toBe(0);
    expect(out[PATH_WAYPOINTS]).toBe(0);
    expect(out[PATH_TOTAL_WAYPOINTS]).toBe(0);
    expect(out[PATH_TRUNCATED]).toBe(0);
  });
});
