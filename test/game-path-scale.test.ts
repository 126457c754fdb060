/**
 * The path kind at the largest grid the nav buffer allows: a 4,096 x 4,096 level shared
 * with four real workers through EngineOptions.shared.nav, exactly as the game shares
 * its level. Every worker (and the main thread) builds its own search state for it, a
 * little under 12 bytes per cell (about 190 MiB); the test checks that every job comes
 * back once, with a legal path that ends at its goal, and that every worker searched.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineCore } from '../engine/core.js';
import type { ResultView } from '../engine/api.js';
import { Outcome } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import { AStar } from '../game/astar.js';
import { generateLevel, mulberry32, type NavGrid } from '../game/grid.js';
import {
  PATH_COST, PATH_FOUND, PATH_MOVES_8_JUMP, PATH_TOTAL_WAYPOINTS, PATH_TRUNCATED, PATH_WAYPOINTS,
} from '../game/kinds.js';

const SIDE = 4096;
const SEED = Number(process.env.PATH_SCALE_SEED ?? 4096);
const WORKERS = 4;
const MAX_WAYPOINTS = 8192;

let level: NavGrid;
let engine: EngineCore;

beforeAll(async () => {
  level = generateLevel({ width: SIDE, height: SIDE, seed: SEED });
  engine = await EngineCore.start({
    workers: WORKERS,
    kindModules: [builtModuleUrl(import.meta.url, './fixtures/search-kinds.js')],
    shared: { nav: level.sab },
    arenaBytes: 8 << 20,
    // A cross-map search here runs for a second or more (the first one also faults in
    // its thread's search memory): above the default 1 s, after which a silent busy
    // worker counts as hung.
    hangTimeoutMs: 60_000,
    initTimeoutMs: 60_000,
  });
}, 120_000);

afterAll(async () => {
  await engine?.shutdown({ timeoutMs: 5000 });
});

interface Query {
  sx: number;
  sy: number;
  gx: number;
  gy: number;
}

/** `n` queries: the first `across` from one side of the map to the other, the rest within 600 cells. */
function queries(rnd: () => number, n: number, across: number): Query[] {
  const free = (): [number, number] => {
    for (;;) {
      const x = Math.floor(rnd() * SIDE);
      const y = Math.floor(rnd() * SIDE);
      if (level.isFree(x, y)) return [x, y];
    }
  };
  const out: Query[] = [];
  for (let i = 0; i < n; i++) {
    const [sx, sy] = free();
    let gx: number, gy: number;
    if (i < across) {
      [gx, gy] = free();
      while (Math.abs(gx - sx) + Math.abs(gy - sy) < SIDE) [gx, gy] = free();
    } else {
      do {
        gx = Math.min(SIDE - 2, Math.max(1, sx + Math.floor((rnd() * 2 - 1) * 600)));
        gy = Math.min(SIDE - 2, Math.max(1, sy + Math.floor((rnd() * 2 - 1) * 600)));
      } while (!level.isFree(gx, gy));
    }
    out.push({ sx, sy, gx, gy });
  }
  return out;
}

/** Walks the waypoints cell by cell: every step one legal move, never cutting a corner. Returns the cost, or -1. */
function walk(wps: Int32Array, from: number, k: number): number {
  const c = level.cells;
  let cost = 0;
  for (let i = 1; i < k; i++) {
    let x = wps[from + i - 1] % SIDE, y = Math.floor(wps[from + i - 1] / SIDE);
    const bx = wps[from + i] % SIDE, by = Math.floor(wps[from + i] / SIDE);
    const dx = Math.sign(bx - x), dy = Math.sign(by - y);
    if (dx !== 0 && dy !== 0 && Math.abs(bx - x) !== Math.abs(by - y)) return -1;
    while (x !== bx || y !== by) {
      if (dx !== 0 && dy !== 0 && (c[y * SIDE + x + dx] !== 0 || c[(y + dy) * SIDE + x] !== 0)) return -1;
      x += dx;
      y += dy;
      if (c[y * SIDE + x] !== 0) return -1;
      cost += dx !== 0 && dy !== 0 ? Math.SQRT2 : 1;
    }
  }
  return cost;
}

/** The engine's frame counter across rounds. */
let frame0 = 0;

/** Submits `qs` as path jobs and polls until every one is back; checks each result. Returns the costs. */
async function runRound(qs: Query[], byWorker: number[], problems: string[]): Promise<Float64Array> {
  const PATH = engine.kindId('path');
  const params = new Float64Array(engine.kinds[PATH].params.length);
  const ids = new Map<number, number>();
  for (let i = 0; i < qs.length; i++) {
    const q = qs[i];
    params[0] = q.sx; params[1] = q.sy; params[2] = q.gx; params[3] = q.gy;
    params[4] = MAX_WAYPOINTS; params[5] = PATH_MOVES_8_JUMP; params[6] = 0x7fffffff;
    const id = engine.submit(PATH, params, i);
    if (id < 0) problems.push(`query ${i}: submit refused (${id})`);
    else ids.set(id, i);
  }
  const seen = new Uint8Array(qs.length);
  const cost = new Float64Array(qs.length).fill(-1);
  const onResult = (r: ResultView): void => {
    const i = r.tag;
    if (ids.get(r.jobId) !== i || seen[i]) {
      problems.push(`job ${r.jobId} (tag ${i}) delivered twice or unknown`);
      return;
    }
    seen[i] = 1;
    if (r.status !== Outcome.Done) {
      problems.push(`query ${i}: outcome ${r.status}${r.error ? ` ${r.error.reason}: ${r.error.message}` : ''}`);
      return;
    }
    if (r.worker < 0) problems.push(`query ${i}: ran inline, not on a worker`);
    else byWorker[r.worker]++;
    const v = r.values;
    const q = qs[i];
    const k = v[PATH_WAYPOINTS];
    const at = r.arenaOffset >> 2;
    const wps = engine.arenaI32;
    if (v[PATH_FOUND] !== 1 || v[PATH_TRUNCATED] !== 0 || v[PATH_TOTAL_WAYPOINTS] !== k) {
      problems.push(`query ${i}: found ${v[PATH_FOUND]} truncated ${v[PATH_TRUNCATED]} waypoints ${k}/${v[PATH_TOTAL_WAYPOINTS]}`);
      return;
    }
    if (wps[at] !== q.sy * SIDE + q.sx || wps[at + k - 1] !== q.gy * SIDE + q.gx) problems.push(`query ${i}: ends are not start and goal`);
    const walked = walk(wps, at, k);
    if (Math.abs(walked - v[PATH_COST]) > 1e-6) problems.push(`query ${i}: path walks ${walked}, cost says ${v[PATH_COST]}`);
    cost[i] = v[PATH_COST];
  };
  let done = 0;
  const deadline = Date.now() + 100_000; // a guard against a lost job, far above any run
  for (let frame = frame0; done < ids.size && Date.now() < deadline; frame++) {
    engine.beginFrame(frame);
    done += engine.poll(onResult);
    frame0 = frame + 1;
    if (done < ids.size) await new Promise((r) => setTimeout(r, 20));
  }
  if (done !== qs.length) problems.push(`${done} of ${qs.length} results came back`);
  return cost;
}

describe('path search on a 4,096 x 4,096 level', () => {
  test(`four workers search the shared level (seed ${SEED})`, async () => {
    const rnd = mulberry32(SEED);
    const problems: string[] = [];
    const byWorker = new Array<number>(WORKERS).fill(0);
    // The first round crosses the map once per worker; later rounds are shorter paths.
    // Which worker takes which job is the engine's choice (it keeps a small burst on an
    // awake worker until it has measured the kind's cost), so rounds go on until every
    // worker has searched the level, at most eight of them.
    const first = queries(rnd, 8, WORKERS);
    const costs = await runRound(first, byWorker, problems);
    let rounds = 1;
    while (byWorker.some((n) => n === 0) && rounds < 8 && problems.length === 0) {
      await runRound(queries(rnd, 8, 0), byWorker, problems);
      rounds++;
    }
    expect(problems, `seed ${SEED}`).toEqual([]);
    // Every worker searched: four threads, each holding search memory for the whole map.
    expect(byWorker.every((n) => n > 0), `jobs per worker ${byWorker.join(', ')} after ${rounds} rounds (seed ${SEED})`).toBe(true);
    // None died or was replaced on the way (out of memory, or taken for hung).
    const h = engine.health();
    expect(h.every((x) => x.state !== 'dead' && x.respawns === 0), JSON.stringify(h)).toBe(true);
    // Optimal: the same costs as a search on this thread, for the cross-map queries and a few more.
    const ref = new AStar(level);
    for (const i of [0, 1, 2, 3, 6]) {
      const q = first[i];
      expect(costs[i], `query ${i} (seed ${SEED})`).toBe(ref.searchJump(q.sx, q.sy, q.gx, q.gy));
    }
    console.log(`4096x4096: ${rounds} round(s) of 8 paths on ${WORKERS} workers (jobs per worker ${byWorker.join(', ')}), rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
  }, 180_000);
});
