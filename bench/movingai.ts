/**
 * Reader for the Moving AI Lab grid benchmarks (N. Sturtevant, "Benchmarks for
 * Grid-Based Pathfinding", 2012): `.map` files become NavGrids, `.map.scen` files a list
 * of scenarios with their published optimal lengths. The files live beside the project
 * in `../shared/movingai/` (override with FRAMEJOBS_MOVINGAI_DIR); the bench and the
 * exactness test read them from there and say so when they are missing.
 *
 * Format: a map is `type octile`, `height H`, `width W`, `map`, then H rows of W
 * characters, where `.`, `G` and `S` are passable and everything else (`@`, `O`, `T`,
 * `W`) is not. A scenario file is `version 1` and then one tab-separated row per
 * scenario: bucket, map name, width, height, start x, start y, goal x, goal y, optimal
 * length (octile costs, no corner cutting, printed to 8 decimals). Rows of any other
 * shape are skipped (some copies carry a citation block after the data).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CELL_FREE, CELL_WALL, createNavGrid, type NavGrid } from '../game/grid.js';

export interface Scenario {
  bucket: number;
  sx: number;
  sy: number;
  gx: number;
  gy: number;
  /** The published optimal length, as printed. */
  optimal: number;
}

/**
 * The benchmark's own value of sqrt(2). Every published length is
 * `straight steps + diagonal steps * 1.414213562`, printed to 8 decimals: it sits
 * diagonal steps * 3.7e-10 below the true octile cost (0.36e-6 on a 960-diagonal path
 * of Boston_0_1024). Since sqrt(2) is irrational, a cost fixes its step counts, so a
 * path is optimal exactly when its true cost is `s + d * SQRT2` and `s + d * ROOT_TWO`
 * matches the published length to its 8 decimals.
 */
export const MOVINGAI_ROOT_TWO = 1.414213562;
/** Half a unit of the 8th decimal, plus room for the double arithmetic. */
export const MOVINGAI_TOLERANCE = 0.5e-8 + 1e-10;

/** The length the benchmark prints for a path of `straight` and `diagonal` steps. */
export function benchmarkLength(straight: number, diagonal: number): number {
  return straight + diagonal * MOVINGAI_ROOT_TWO;
}

/**
 * Straight and diagonal step counts of a path given as waypoints (cell indices on a
 * grid `width` wide, consecutive ones joined by straight or diagonal runs).
 * Returns [straight, diagonal], or null if two waypoints are not on one run.
 */
export function stepCounts(waypoints: ArrayLike<number>, count: number, width: number): [number, number] | null {
  let straight = 0;
  let diagonal = 0;
  for (let i = 1; i < count; i++) {
    const ax = waypoints[i - 1] % width, ay = Math.floor(waypoints[i - 1] / width);
    const bx = waypoints[i] % width, by = Math.floor(waypoints[i] / width);
    const dx = Math.abs(bx - ax), dy = Math.abs(by - ay);
    if (dx === 0 || dy === 0) straight += dx + dy;
    else if (dx === dy) diagonal += dx;
    else return null;
  }
  return [straight, diagonal];
}

/** The benchmark folder: FRAMEJOBS_MOVINGAI_DIR, else `shared/movingai` beside the project root; null when absent. */
export function movingAiDir(): string | null {
  const env = process.env.FRAMEJOBS_MOVINGAI_DIR;
  if (env) return existsSync(env) ? env : null;
  // The project root is the nearest folder up from this module with a package.json (source or dist/).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const d = resolve(dir, '..', 'shared', 'movingai');
      return existsSync(d) ? d : null;
    }
    dir = dirname(dir);
  }
  return null;
}

export function parseMap(text: string, name = 'map'): NavGrid {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let height = -1;
  let width = -1;
  let row = 0;
  for (; row < lines.length; row++) {
    const l = lines[row].trim();
    if (l === 'map') break;
    const m = /^(height|width)\s+(\d+)$/.exec(l);
    if (m) {
      if (m[1] === 'height') height = Number(m[2]);
      else width = Number(m[2]);
    }
  }
  if (row >= lines.length || height < 2 || width < 2) throw new Error(`${name}: no 'height', 'width' and 'map' header`);
  const grid = createNavGrid(width, height);
  for (let y = 0; y < height; y++) {
    const l = lines[row + 1 + y];
    if (l === undefined || l.length < width) throw new Error(`${name}: row ${y} is missing or shorter than ${width}`);
    for (let x = 0; x < width; x++) {
      const ch = l.charCodeAt(x);
      // '.', 'G', 'S' are passable ground.
      grid.cells[y * width + x] = ch === 46 || ch === 71 || ch === 83 ? CELL_FREE : CELL_WALL;
    }
  }
  return grid;
}

export function parseScenarios(text: string): Scenario[] {
  const out: Scenario[] = [];
  for (const raw of text.split('\n')) {
    const f = raw.replace(/\r$/, '').split('\t');
    if (f.length !== 9 || !/^\d+$/.test(f[0])) continue;
    out.push({ bucket: Number(f[0]), sx: Number(f[4]), sy: Number(f[5]), gx: Number(f[6]), gy: Number(f[7]), optimal: Number(f[8]) });
  }
  return out;
}

export interface Benchmark {
  name: string;
  grid: NavGrid;
  scenarios: Scenario[];
}

/** Loads `name`.map and its `.map.scen` from `dir`. */
export function loadBenchmark(dir: string, name: string): Benchmark {
  const grid = parseMap(readFileSync(join(dir, `${name}.map`), 'utf8'), name);
  const scenarios = parseScenarios(readFileSync(join(dir, `${name}.map.scen`), 'utf8'));
  return { name, grid, scenarios };
}

/**
 * `n` scenarios spread evenly from the shortest to the longest optimal length (so over
 * every bucket, whatever order the file lists them in), the longest always included.
 */
export function sampleScenarios(all: Scenario[], n: number): Scenario[] {
  const sorted = all.slice().sort((a, b) => a.optimal - b.optimal);
  if (n >= sorted.length) return sorted;
  const out: Scenario[] = [];
  for (let i = 0; i < n; i++) out.push(sorted[Math.floor(((i + 1) * sorted.length) / n) - 1]);
  return out;
}
