import { describe, expect, test } from 'vitest';
import { AStar } from '../kinds/grid/astar.js';
import { CELL_FREE, CELL_WALL, createNavGrid, mulberry32, randomGrid, type NavGrid } from '../game/grid.js';
import { expectJumpPath, freeCell, perfectMaze } from './fixtures/grid-paths.js';

const SEED = Number(process.env.GRID_SEED ?? 0xdead);

/**
 * A perfect maze of one-cell corridors on a (2n+1)-square grid (perfectMaze), then
 * `rooms` open rectangles knocked into it and a share `knock` of its
 * walls removed: dead-end corridors, rooms with one door, loops and diagonal gaps.
 */
function maze(n: number, rnd: () => number, rooms: number, knock: number): NavGrid {
  const grid = perfectMaze(n, rnd);
  const side = grid.width;
  const c = grid.cells;
  for (let r = 0; r < rooms; r++) {
    const w = 2 + Math.floor(rnd() * 6), h = 2 + Math.floor(rnd() * 6);
    const x0 = 1 + Math.floor(rnd() * (side - w - 2)), y0 = 1 + Math.floor(rnd() * (side - h - 2));
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) c[y * side + x] = CELL_FREE;
  }
  for (let y = 1; y < side - 1; y++) for (let x = 1; x < side - 1; x++) if (rnd() < knock) c[y * side + x] = CELL_FREE;
  return grid;
}

/** Free cells with exactly one free orthogonal neighbour: the tips of dead ends. */
function tips(grid: NavGrid): number[] {
  const out: number[] = [];
  for (let y = 0; y < grid.height; y++) {
    for (let x = 0; x < grid.width; x++) {
      if (!grid.isFree(x, y)) continue;
      const n = (grid.isFree(x, y - 1) ? 1 : 0) + (grid.isFree(x + 1, y) ? 1 : 0) + (grid.isFree(x, y + 1) ? 1 : 0) + (grid.isFree(x - 1, y) ? 1 : 0);
      if (n === 1) out.push(y * grid.width + x);
    }
  }
  return out;
}

/** An end for a query: half the time the tip of a dead end (when there is one), else any free cell. */
function end(grid: NavGrid, tipCells: number[], rnd: () => number): [number, number] {
  if (tipCells.length > 0 && rnd() < 0.5) {
    const c = tipCells[Math.floor(rnd() * tipCells.length)];
    return [c % grid.width, (c / grid.width) | 0];
  }
  return freeCell(grid, rnd);
}

/** What jump search keeps of the grid, read from outside for the tests. */
interface SearchView {
  readonly nbr: Uint8Array;
  readonly rowFree: Int32Array;
  readonly colFree: Int32Array;
}

const viewOf = (a: AStar): SearchView => a as unknown as SearchView;

/** Index of the first element where `a` and `b` differ, or -1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe(`dead ends out of jump search (seed ${SEED}; set GRID_SEED to vary)`, () => {
  test('costs and paths equal A* over the whole grid, with ends inside dead ends', () => {
    const rnd = mulberry32(SEED);
    const cells = new Int32Array(80 * 80);
    let checked = 0;
    let fromTips = 0;
    for (let m = 0; m < 24; m++) {
      // Mazes with rooms and loops, and random grids dense enough to leave many short dead ends.
      const grid = m % 3 === 2 ? randomGrid(31 + Math.floor(rnd() * 40), 31 + Math.floor(rnd() * 40), 0.3 + rnd() * 0.15, SEED + m) : maze(8 + Math.floor(rnd() * 24), rnd, Math.floor(rnd() * 6), m % 3 === 0 ? 0 : rnd() * 0.08);
      const astar = new AStar(grid);
      const tipCells = tips(grid);
      for (let q = 0; q < 40; q++) {
        const [sx, sy] = end(grid, tipCells, rnd);
        const [gx, gy] = end(grid, tipCells, rnd);
        const where = `seed ${SEED} grid ${m} ${grid.width}x${grid.height} (${sx},${sy})->(${gx},${gy})`;
        if (!expectJumpPath(astar, grid, cells, sx, sy, gx, gy, astar.search(sx, sy, gx, gy, true), where)) continue;
        checked++;
        if (tipCells.includes(sy * grid.width + sx) || tipCells.includes(gy * grid.width + gx)) fromTips++;
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(fromTips).toBeGreaterThan(300);
  });

  test('a maze without loops is searched along its one path: the start and the goal are the only jump points', () => {
    const rnd = mulberry32(SEED + 1);
    for (let m = 0; m < 6; m++) {
      const grid = maze(30 + m * 10, rnd, 0, 0);
      const astar = new AStar(grid);
      for (let q = 0; q < 20; q++) {
        const [sx, sy] = freeCell(grid, rnd);
        const [gx, gy] = freeCell(grid, rnd);
        const where = `seed ${SEED + 1} maze ${m} (${sx},${sy})->(${gx},${gy})`;
        const want = astar.search(sx, sy, gx, gy, true);
        expect(want, where).toBeGreaterThanOrEqual(0);
        expect(astar.searchJump(sx, sy, gx, gy), where).toBeCloseTo(want, 9);
        expect(astar.info.expanded, where).toBeLessThanOrEqual(2);
      }
    }
  });

  test('every search leaves the view of the grid as it found it, whatever its outcome', () => {
    const rnd = mulberry32(SEED + 2);
    const grid = maze(20, rnd, 3, 0.03);
    // A wall across one corner region makes some pairs unreachable.
    for (let y = 1; y < grid.height - 1; y++) grid.cells[y * grid.width + 30] = CELL_WALL;
    const astar = new AStar(grid);
    const before = viewOf(astar);
    const nbr = before.nbr.slice(), rowFree = before.rowFree.slice(), colFree = before.colFree.slice();
    const tipCells = tips(grid);
    let unreachable = 0;
    let cut = 0;
    for (let q = 0; q < 300; q++) {
      const [sx, sy] = end(grid, tipCells, rnd);
      const [gx, gy] = end(grid, tipCells, rnd);
      // Some searches give up after a few expansions; the branches they opened close all the same.
      const limit = q % 4 === 0 ? 1 + Math.floor(rnd() * 3) : 0x7fffffff;
      const got = astar.searchJump(sx, sy, gx, gy, limit);
      if (got < 0 && limit === 0x7fffffff) unreachable++;
      if (got < 0 && limit !== 0x7fffffff) cut++;
      const where = `seed ${SEED + 2} query ${q} (${sx},${sy})->(${gx},${gy})`;
      const v = viewOf(astar);
      expect(firstDiff(v.nbr, nbr), where).toBe(-1);
      expect(firstDiff(v.rowFree, rowFree), where).toBe(-1);
      expect(firstDiff(v.colFree, colFree), where).toBe(-1);
    }
    expect(unreachable).toBeGreaterThan(0);
    expect(cut).toBeGreaterThan(0);
    // A fresh instance agrees with the used one on new queries.
    const fresh = new AStar(grid);
    for (let q = 0; q < 50; q++) {
      const [sx, sy] = end(grid, tipCells, rnd);
      const [gx, gy] = end(grid, tipCells, rnd);
      expect(astar.searchJump(sx, sy, gx, gy)).toBe(fresh.searchJump(sx, sy, gx, gy));
    }
  });
});
