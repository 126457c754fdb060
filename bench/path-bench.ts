/**
 * Path search throughput, game/astar.ts against the `pathfinding` package, measured side
 * by side in one run (rounds alternate between them so machine noise hits all alike).
 *
 * 1. The game's generated 256 x 256 level, game-like queries: AStar.searchJump (jump
 *    points, what the game's path jobs use) is the headline `astar_paths_per_s`, plain
 *    AStar.search beside it, against the package's AStarFinder.
 * 2. `movingai`: the Moving AI Lab benchmark maps in ../shared/movingai (a game map, a
 *    maze and a city map by default; see bench/movingai.ts), a sample of each map's
 *    scenarios from shortest to longest. Ours (jump points, and plain A*) against every
 *    optimal finder of the package (AStarFinder, JumpPointFinder with the octile
 *    heuristic, BiAStarFinder); the fastest of them whose costs are all optimal is its "best", and
 *    `ratio` is ours over that one (the median of per-round ratios). Every cost of
 *    every finder is checked against the scenario's published optimal length.
 *
 * Fairness: all use 8-connectivity without corner cutting and the octile heuristic.
 * The package keeps search state in its grid's node objects; they are reset between
 * searches outside the timed sections (a clone per search, its documented usage, costs
 * the same but allocates a million objects on the big maps), so only findPath is timed.
 *
 * Standalone: `node dist/bench/path-bench.js [--quick] [--json] [--maps a,b,c]`
 * (`npm run bench:path`). With --json the last stdout line is the result object.
 */
import { parseArgs } from 'node:util';
import PF from 'pathfinding';
import { AStar } from '../game/astar.js';
import { generateLevel, mulberry32, type NavGrid } from '../game/grid.js';
import {
  MOVINGAI_TOLERANCE, benchmarkLength, loadBenchmark, movingAiDir, sampleScenarios, stepCounts, type Scenario,
} from './movingai.js';

export interface PathBenchResult {
  /** AStar.searchJump, the game's path kind. */
  astar_paths_per_s: number;
  /** AStar.search, plain A*. */
  astar_plain_paths_per_s: number;
  /** Median per-round ratio of plain A* over the package. */
  ratio_plain: number;
  pathfinding_pkg_paths_per_s: number;
  /** Median over the measured rounds of (package time / our time) in the same round. */
  ratio: number;
  /** Total package time / total our time over the measured rounds. */
  ratio_overall: number;
  /** Queries per round, measured rounds (after JIT warm-up rounds), and the mean path cost, for context. */
  queries: number;
  rounds: number;
  mean_cost: number;
  /** The Moving AI maps; absent when ../shared/movingai is not there. */
  movingai?: MovingAiResult;
}

export interface MovingAiMapResult {
  map: string;
  width: number;
  height: number;
  scenarios: number;
  rounds: number;
  /** Ours: AStar.searchJump and AStar.search. */
  jps_searches_per_s: number;
  astar_searches_per_s: number;
  /** Each package finder's searches/s and whether all its costs were optimal. */
  pathfinding: Record<string, { searches_per_s: number; all_optimal: boolean }>;
  /** The package's fastest finder with every cost optimal. */
  pathfinding_best: string;
  pathfinding_best_searches_per_s: number;
  /** Median over rounds of (package best time / our jump-point time) in the same round. */
  ratio: number;
  /** Every cost of ours (both searches) equal to the published optimal length. */
  all_optimal: boolean;
  mean_optimal_length: number;
}

export interface MovingAiResult {
  maps: MovingAiMapResult[];
  /** The smallest per-map ratio, the headline against the 10x target. */
  min_ratio: number;
  all_optimal: boolean;
}

function queries(grid: NavGrid, n: number, seed: number): Int32Array {
  const rnd = mulberry32(seed);
  const astar = new AStar(grid);
  const q = new Int32Array(4 * n);
  let k = 0;
  while (k < n) {
    const pick = (): [number, number] => {
      for (;;) {
        const x = Math.floor(rnd() * grid.width);
        const y = Math.floor(rnd() * grid.height);
        if (grid.isFree(x, y)) return [x, y];
      }
    };
    const [sx, sy] = pick();
    // Game-like goals: within 48 cells, as agents pick them.
    const gx = Math.max(1, Math.min(grid.width - 2, sx + Math.floor((rnd() * 2 - 1) * 48)));
    const gy = Math.max(1, Math.min(grid.height - 2, sy + Math.floor((rnd() * 2 - 1) * 48)));
    if (!grid.isFree(gx, gy) || astar.search(sx, sy, gx, gy, true) < 0) continue;
    q.set([sx, sy, gx, gy], 4 * k++);
  }
  return q;
}

export async function benchPath(opts: { quick: boolean; maps?: string[] }): Promise<PathBenchResult> {
  const grid = generateLevel({ seed: 1 });
  const n = opts.quick ? 40 : 100;
  const warmup = opts.quick ? 2 : 3;
  const rounds = warmup + (opts.quick ? 4 : 8);
  const q = queries(grid, n, 99);
  const astar = new AStar(grid);
  const matrix: number[][] = [];
  for (let y = 0; y < grid.height; y++) matrix.push(Array.from(grid.cells.subarray(y * grid.width, (y + 1) * grid.width)));
  const pfGrid = new PF.Grid(matrix);
  const finder = new PF.AStarFinder({ diagonalMovement: PF.DiagonalMovement.OnlyWhenNoObstacles });
  const costs = new Float64Array(n);
  for (let i = 0; i < n; i++) costs[i] = astar.search(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], true);

  let mine = 0;
  let plain = 0;
  let theirs = 0;
  const CLONES = 10;
  const ratios: number[] = [];
  const ratiosPlain: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const mine0 = mine;
    const plain0 = plain;
    const theirs0 = theirs;
    let t = performance.now();
    for (let i = 0; i < n; i++) {
      if (Math.abs(astar.searchJump(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3]) - costs[i]) > 1e-9) throw new Error(`jump search gave a different cost for query ${i}`);
    }
    mine += performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) {
      if (astar.search(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], true) !== costs[i]) throw new Error(`A* gave a different cost for query ${i}`);
    }
    plain += performance.now() - t;
    for (let b = 0; b < n; b += CLONES) {
      const clones: PF.Grid[] = [];
      for (let i = b; i < Math.min(n, b + CLONES); i++) clones.push(pfGrid.clone());
      t = performance.now();
      for (let i = b; i < Math.min(n, b + CLONES); i++) {
        const path = finder.findPath(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], clones[i - b]);
        if (path.length === 0) throw new Error(`pathfinding found no path for query ${i}`);
      }
      theirs += performance.now() - t;
      // Checked outside the timing: the same optimal cost.
      if (r === 0) {
        for (let i = b; i < Math.min(n, b + CLONES); i++) {
          const path = finder.findPath(q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3], pfGrid.clone());
          let len = 0;
          for (let k = 1; k < path.length; k++) len += Math.hypot(path[k][0] - path[k - 1][0], path[k][1] - path[k - 1][1]);
          if (Math.abs(len - costs[i]) > 1e-6) throw new Error(`query ${i}: pathfinding cost ${len}, ours ${costs[i]}`);
        }
      }
    }
    if (r === warmup - 1) {
      // Everything before this was JIT warm-up for all three: start counting afresh.
      mine = 0;
      plain = 0;
      theirs = 0;
      continue;
    }
    if (r < warmup) continue;
    ratios.push((theirs - theirs0) / (mine - mine0));
    ratiosPlain.push((theirs - theirs0) / (plain - plain0));
  }
  // The median of per-round ratios resists bursts of load from other processes.
  const medianOf = (a: number[]): number => {
    const sorted = a.slice().sort((x, y) => x - y);
    return sorted[sorted.length >> 1];
  };
  const median = medianOf(ratios);
  const total = n * (rounds - warmup);
  const astarPerS = total / (mine / 1000);
  const pfPerS = total / (theirs / 1000);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += costs[i];
  const movingai = benchMovingAi(opts);
  return {
    astar_paths_per_s: Math.round(astarPerS),
    astar_plain_paths_per_s: Math.round(total / (plain / 1000)),
    ratio_plain: Number(medianOf(ratiosPlain).toFixed(2)),
    pathfinding_pkg_paths_per_s: Math.round(pfPerS),
    ratio: Number(median.toFixed(2)),
    ratio_overall: Number((astarPerS / pfPerS).toFixed(2)),
    queries: n,
    rounds: rounds - warmup,
    mean_cost: Number((sum / n).toFixed(2)),
    ...(movingai ? { movingai } : {}),
  };
}

/** The package's grid node fields a search writes; reset between searches instead of cloning. */
interface PfNode { opened?: boolean; closed?: boolean; parent?: unknown; g?: number; h?: number; f?: number }

function resetPfGrid(grid: PF.Grid): void {
  const nodes = (grid as unknown as { nodes: PfNode[][] }).nodes;
  for (const row of nodes) {
    for (const n of row) {
      n.opened = false;
      n.closed = false;
      n.parent = null;
      n.g = 0;
      n.h = 0; // JumpPointFinder reuses a node's h when it is truthy
      n.f = 0;
    }
  }
}

/** Whether a path (cells as [x, y]) has the scenario's published optimal length. */
function pfPathOptimal(path: number[][], s: Scenario): boolean {
  if (path.length === 0) return false;
  let straight = 0;
  let diagonal = 0;
  for (let i = 1; i < path.length; i++) {
    const dx = Math.abs(path[i][0] - path[i - 1][0]), dy = Math.abs(path[i][1] - path[i - 1][1]);
    if (dx === 0 || dy === 0) straight += dx + dy;
    else if (dx === dy) diagonal += dx;
    else return false;
  }
  return Math.abs(benchmarkLength(straight, diagonal) - s.optimal) <= MOVINGAI_TOLERANCE;
}

/** Whether our last search's path has the scenario's published optimal length. */
function oursOptimal(astar: AStar, cost: number, s: Scenario, wps: Int32Array): boolean {
  if (cost < 0) return false;
  const k = astar.writeWaypoints(wps, 0, wps.length);
  if (k !== astar.info.waypoints) return false;
  const counts = stepCounts(wps, k, astar.grid.width);
  if (!counts) return false;
  const [straight, diagonal] = counts;
  return Math.abs(cost - (straight + diagonal * Math.SQRT2)) < 1e-9 && Math.abs(benchmarkLength(straight, diagonal) - s.optimal) <= MOVINGAI_TOLERANCE;
}

export const DEFAULT_MOVINGAI_MAPS = ['arena2', 'maze512-1-0', 'Berlin_0_512'];

export function benchMovingAi(opts: { quick: boolean; maps?: string[] }): MovingAiResult | null {
  const dir = movingAiDir();
  if (!dir) return null;
  const n = opts.quick ? 30 : 100;
  const warmup = 1;
  const rounds = warmup + (opts.quick ? 3 : 6);
  const maps: MovingAiMapResult[] = [];
  for (const name of opts.maps ?? DEFAULT_MOVINGAI_MAPS) {
    const b = loadBenchmark(dir, name);
    const sc = sampleScenarios(b.scenarios, n);
    const astar = new AStar(b.grid);
    const wps = new Int32Array(b.grid.width * b.grid.height);
    const matrix: number[][] = [];
    for (let y = 0; y < b.grid.height; y++) matrix.push(Array.from(b.grid.cells.subarray(y * b.grid.width, (y + 1) * b.grid.width)));
    const pfGrid = new PF.Grid(matrix);
    const finders: [string, PF.Finder][] = [
      ['AStarFinder', new PF.AStarFinder({ diagonalMovement: PF.DiagonalMovement.OnlyWhenNoObstacles })],
      // Octile: its default (Manhattan) overestimates diagonal paths. Its typings declare it a plain function.
      ['JumpPointFinder', new (PF.JumpPointFinder as unknown as new (o: object) => PF.Finder)({ diagonalMovement: PF.DiagonalMovement.OnlyWhenNoObstacles, heuristic: PF.Heuristic.octile })],
      ['BiAStarFinder', new PF.BiAStarFinder({ diagonalMovement: PF.DiagonalMovement.OnlyWhenNoObstacles })],
    ];
    let allOptimal = true;
    const pfOptimal = finders.map(() => true);
    let jpsMs = 0;
    let plainMs = 0;
    const pfMs = finders.map(() => 0);
    const perRound: { jps: number; pf: number[] }[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      for (let i = 0; i < sc.length; i++) {
        const s = sc[i];
        if (astar.searchJump(s.sx, s.sy, s.gx, s.gy) < 0) allOptimal = false;
      }
      const jps = performance.now() - t;
      t = performance.now();
      for (let i = 0; i < sc.length; i++) {
        const s = sc[i];
        if (astar.search(s.sx, s.sy, s.gx, s.gy, true) < 0) allOptimal = false;
      }
      const plain = performance.now() - t;
      const pf = finders.map(([, f], k) => {
        let ms = 0;
        for (const s of sc) {
          resetPfGrid(pfGrid);
          const t0 = performance.now();
          const path = f.findPath(s.sx, s.sy, s.gx, s.gy, pfGrid);
          ms += performance.now() - t0;
          if (r === 0 && !pfPathOptimal(path, s)) pfOptimal[k] = false;
        }
        return ms;
      });
      if (r === 0) {
        // Checked outside the timing, once: every path of ours, both searches.
        for (const s of sc) {
          if (!oursOptimal(astar, astar.searchJump(s.sx, s.sy, s.gx, s.gy), s, wps)) allOptimal = false;
          if (!oursOptimal(astar, astar.search(s.sx, s.sy, s.gx, s.gy, true), s, wps)) allOptimal = false;
        }
      }
      if (r < warmup) continue;
      jpsMs += jps;
      plainMs += plain;
      pf.forEach((ms, k) => (pfMs[k] += ms));
      perRound.push({ jps, pf });
    }
    const total = sc.length * (rounds - warmup);
    const rate = (ms: number): number => Math.round(total / (ms / 1000));
    // The package's best: the fastest finder whose costs were all optimal.
    let best = -1;
    finders.forEach((_, k) => {
      if (pfOptimal[k] && (best < 0 || pfMs[k] < pfMs[best])) best = k;
    });
    const ratios = best < 0 ? [] : perRound.map((x) => x.pf[best] / x.jps).sort((a, b) => a - b);
    maps.push({
      map: name,
      width: b.grid.width,
      height: b.grid.height,
      scenarios: sc.length,
      rounds: rounds - warmup,
      jps_searches_per_s: rate(jpsMs),
      astar_searches_per_s: rate(plainMs),
      pathfinding: Object.fromEntries(finders.map(([fname], k) => [fname, { searches_per_s: rate(pfMs[k]), all_optimal: pfOptimal[k] }])),
      pathfinding_best: best < 0 ? 'none' : finders[best][0],
      pathfinding_best_searches_per_s: best < 0 ? 0 : rate(pfMs[best]),
      ratio: ratios.length ? Number(ratios[ratios.length >> 1].toFixed(2)) : 0,
      all_optimal: allOptimal,
      mean_optimal_length: Number((sc.reduce((a, s) => a + s.optimal, 0) / sc.length).toFixed(1)),
    });
  }
  return {
    maps,
    min_ratio: Math.min(...maps.map((m) => m.ratio)),
    all_optimal: maps.every((m) => m.all_optimal),
  };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, maps: { type: 'string' } } });
  const maps = values.maps ? values.maps.split(',').filter((m) => m.length > 0) : undefined;
  const r = await benchPath({ quick: values.quick ?? false, maps });
  console.log(`A* with jump points:       ${r.astar_paths_per_s} paths/s  (the game's path jobs, generated 256 x 256 level)`);
  console.log(`plain A*:                  ${r.astar_plain_paths_per_s} paths/s  (ratio ${r.ratio_plain}x)`);
  console.log(`pathfinding AStarFinder:   ${r.pathfinding_pkg_paths_per_s} paths/s`);
  console.log(`ratio:                     ${r.ratio}x  (${r.queries} queries x ${r.rounds} rounds, mean cost ${r.mean_cost} cells)`);
  if (!r.movingai) console.log('Moving AI maps: not found (../shared/movingai beside the project, or FRAMEJOBS_MOVINGAI_DIR): skipped');
  for (const m of r.movingai?.maps ?? []) {
    const pf = Object.entries(m.pathfinding).map(([k, v]) => `${k} ${v.searches_per_s}/s${v.all_optimal ? '' : ' (not optimal)'}`).join(', ');
    console.log(
      `${m.map} (${m.width} x ${m.height}, ${m.scenarios} scenarios x ${m.rounds} rounds, mean length ${m.mean_optimal_length}): ` +
        `ours JPS ${m.jps_searches_per_s}/s, A* ${m.astar_searches_per_s}/s; pathfinding ${pf}; ` +
        `${m.ratio}x its best (${m.pathfinding_best}); costs ${m.all_optimal ? 'all optimal' : 'NOT ALL OPTIMAL'}`,
    );
  }
  if (values.json) console.log(JSON.stringify(r));
}
