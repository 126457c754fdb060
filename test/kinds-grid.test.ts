/**
 * framejobs/kinds/grid as a user runs it: a nav grid of their own (a hand-drawn Moving AI
 * map, a Uint8Array of walkable cells), shared as `shared.nav`, path and distances jobs
 * on two real workers, registered both ways (statically with a worker entry of one's
 * own, and by URL), every job exactly once with its known answer. Bad inputs end in
 * typed errors.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EngineOptions, ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import {
  distancesKind,
  kinds,
  NavGrid,
  navGridFromMovingAi,
  navGridFromWalkable,
  pathKind,
  PATH_MOVES_4,
  PATH_MOVES_8,
  PATH_MOVES_8_JUMP,
} from '../kinds/grid/index.js';
import { importsOf } from '../scripts/import-graph.js';
import { pollUntil } from './fixtures/engine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const gridWorker = builtModuleUrl(import.meta.url, './fixtures/grid-worker.js');
/** The built subpath module, found by the package's name as a user's `import.meta.resolve('framejobs/kinds/grid')` finds it. */
const gridModuleUrl = pathToFileURL(createRequire(import.meta.url).resolve('framejobs/kinds/grid'));

/**
 * One corridor from S to G, forced at every turn (no diagonal can cut a wall corner):
 * east 8, down 2, west 7, down 2, east 8 = 27 steps in both movement models.
 */
const MAP = `type octile
height 5
width 10
map
S.........
@@@@@@@@..
..........
..@@@@@@@@
.........G
`;
const W = 10;
const cell = (x: number, y: number): number => y * W + x;
const CORNERS = [cell(0, 0), cell(8, 0), cell(8, 2), cell(1, 2), cell(1, 4), cell(9, 4)];

interface PathQuery {
  p: [number, number, number, number, number, number, number];
  found: number;
  cost: number;
  cells: number;
  /** Exact waypoints where the shortest path is unique; null where several share the cost. */
  waypoints: number[] | null;
  truncated: number;
  total: number;
}

/** sx, sy, gx, gy, maxWaypoints, moves, maxExpanded, and what a correct search answers. */
const QUERIES: PathQuery[] = [
  ...[PATH_MOVES_4, PATH_MOVES_8, PATH_MOVES_8_JUMP].flatMap((moves): PathQuery[] => [
    { p: [0, 0, 9, 4, 16, moves, 10_000], found: 1, cost: 27, cells: 28, waypoints: CORNERS, truncated: 0, total: 6 },
    { p: [9, 4, 0, 0, 16, moves, 10_000], found: 1, cost: 27, cells: 28, waypoints: [...CORNERS].reverse(), truncated: 0, total: 6 },
    // The slice holds 3 of the 6 turning points: the first three, and the true count.
    { p: [0, 0, 9, 4, 3, moves, 10_000], found: 1, cost: 27, cells: 28, waypoints: CORNERS.slice(0, 3), truncated: 1, total: 6 },
    { p: [4, 2, 4, 2, 4, moves, 10_000], found: 1, cost: 0, cells: 1, waypoints: [cell(4, 2)], truncated: 0, total: 1 },
    // A goal on a wall, and a search budget of one expansion: not found, nothing written.
    { p: [0, 0, 3, 3, 16, moves, 10_000], found: 0, cost: -1, cells: 0, waypoints: [], truncated: 0, total: 0 },
    { p: [0, 0, 9, 4, 16, moves, 1], found: 0, cost: -1, cells: 0, waypoints: [], truncated: 0, total: 0 },
  ]),
  // Round the gap in row 1: one diagonal (2 + SQRT2) when diagonals are allowed, 4 steps when not.
  { p: [7, 0, 9, 2, 16, PATH_MOVES_4, 10_000], found: 1, cost: 4, cells: 5, waypoints: null, truncated: 0, total: -1 },
  { p: [7, 0, 9, 2, 16, PATH_MOVES_8, 10_000], found: 1, cost: 2 + Math.SQRT2, cells: 4, waypoints: null, truncated: 0, total: -1 },
  { p: [7, 0, 9, 2, 16, PATH_MOVES_8_JUMP, 10_000], found: 1, cost: 2 + Math.SQRT2, cells: 4, waypoints: null, truncated: 0, total: -1 },
];

/** Distance-field queries: tx, ty, x0, y0, w, h, diagonal, and known cells (x, y, distance). */
const FIELDS = [
  { p: [9, 4, 0, 0, 10, 5, 0], reached: 34, max: 27, known: [[0, 0, 27], [8, 0, 19], [9, 0, 20], [8, 2, 17], [1, 2, 10], [0, 4, 9], [9, 4, 0], [3, 3, -1], [0, 1, -1]] },
  // Clipped at the grid's right edge; inside the window row 2 cannot reach row 4.
  { p: [9, 4, 5, 2, 8, 4, 0], reached: 5, max: 4, known: [[4, 2, 0], [0, 2, 4], [0, 0, -1], [5, 2, -1], [7, 0, -1], [0, 3, -1]] },
] as const;

/**
 * Runs rounds of every query on `engine` until both workers have run jobs (which worker
 * takes a job is the engine's choice), checking every answer and that every job ends once.
 */
async function runRounds(engine: EngineCore): Promise<Set<number>> {
  const PATH = engine.kindId('path');
  const DIST = engine.kindId('distances');
  const q = pathKind.createParams();
  const f = distancesKind.createParams();
  const perRound = QUERIES.length + FIELDS.length;
  const workers = new Set<number>();
  const seen = new Map<number, number>();
  const problems: string[] = [];
  const onResult = (r: ResultView): void => {
    seen.set(r.tag, (seen.get(r.tag) ?? 0) + 1);
    workers.add(r.worker);
    const i = r.tag % perRound;
    if (r.status !== Outcome.Done) {
      problems.push(`job ${r.tag}: status ${r.status} ${r.error?.message ?? ''}`);
      return;
    }
    const base = r.arenaOffset >> 2;
    if (i < QUERIES.length) {
      const want = QUERIES[i];
      const v = pathKind.readResults(r.values);
      const wps = Array.from(engine.arenaI32.subarray(base, base + v.waypoints));
      // Costs to 1e-9 (a diagonal's SQRT2 sums); waypoints where the shortest path is unique.
      const got = { found: v.found, cost: Math.round(v.cost * 1e9), cells: v.cells, truncated: v.truncated, total: v.totalWaypoints, wps };
      const exp = { found: want.found, cost: Math.round(want.cost * 1e9), cells: want.cells, truncated: want.truncated, total: want.total < 0 ? v.totalWaypoints : want.total, wps: want.waypoints ?? wps };
      if (JSON.stringify(got) !== JSON.stringify(exp)) problems.push(`path query ${i}: got ${JSON.stringify(got)}, want ${JSON.stringify(exp)}`);
    } else {
      const want = FIELDS[i - QUERIES.length];
      const v = distancesKind.readResults(r.values);
      const w = want.p[4];
      if (v.reached !== want.reached || v.maxDistance !== want.max) problems.push(`field ${i}: reached ${v.reached} max ${v.maxDistance}`);
      for (const [x, y, d] of want.known) {
        const got = engine.arenaF32[base + y * w + x];
        if (got !== d) problems.push(`field ${i}: window cell (${x}, ${y}) is ${got}, want ${d}`);
      }
    }
  };
  let submitted = 0;
  for (let round = 0; round < 40 && workers.size < 2; round++) {
    for (let k = 0; k < perRound; k++) {
      const tag = round * perRound + k;
      let id: number;
      if (k < QUERIES.length) {
        q.set(QUERIES[k].p);
        id = engine.submit(PATH, q, tag);
      } else {
        f.set(FIELDS[k - QUERIES.length].p);
        id = engine.submit(DIST, f, tag);
      }
      expect(id, `submit of job ${tag}`).toBeGreaterThanOrEqual(0);
      submitted++;
    }
    await pollUntil(engine, onResult, () => seen.size === submitted);
  }
  expect(problems).toEqual([]);
  expect(seen.size).toBe(submitted);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  return workers;
}

describe('building a nav grid from your own data', () => {
  it('reads a Moving AI map: walls where the map has them, the header in place', () => {
    const grid = navGridFromMovingAi(MAP);
    expect([grid.width, grid.height]).toEqual([10, 5]);
    expect(grid.isFree(0, 0) && grid.isFree(8, 1) && grid.isFree(9, 4)).toBe(true);
    expect(grid.isFree(0, 1) || grid.isFree(7, 1) || grid.isFree(2, 3) || grid.isFree(10, 0)).toBe(false);
    // Another thread wraps the same bytes.
    expect(Array.from(new NavGrid(grid.sab).cells)).toEqual(Array.from(grid.cells));
    // Windows line ends read the same.
    expect(Array.from(navGridFromMovingAi(MAP.replace(/\n/g, '\r\n')).cells)).toEqual(Array.from(grid.cells));
  });

  it('builds the same grid from a Uint8Array of walkable cells, or booleans', () => {
    const rows = MAP.trim().split('\n').slice(4);
    const walkable = Uint8Array.from(rows.join(''), (c) => (c === '@' ? 0 : 1));
    const fromBytes = navGridFromWalkable(10, 5, walkable);
    const fromBools = navGridFromWalkable(10, 5, Array.from(walkable, (v) => v === 1));
    expect(Array.from(fromBytes.cells)).toEqual(Array.from(navGridFromMovingAi(MAP).cells));
    expect(Array.from(fromBools.cells)).toEqual(Array.from(fromBytes.cells));
  });

  it.each([
    ['no header', () => navGridFromMovingAi('....\n....'), 'INVALID_OPTION', 'header'],
    ['a short row', () => navGridFromMovingAi(MAP.replace('S.........', 'S...')), 'INVALID_OPTION', 'row 0'],
    ['a missing row', () => navGridFromMovingAi(MAP.split('\n').slice(0, 7).join('\n')), 'INVALID_OPTION', 'row 3'],
    ['a width of 1', () => navGridFromMovingAi('height 2\nwidth 1\nmap\n.\n.\n'), 'INVALID_OPTION', 'width'],
    ['not a string', () => navGridFromMovingAi(42 as unknown as string), 'INVALID_OPTION', 'string'],
    ['too few cells', () => navGridFromWalkable(10, 5, new Uint8Array(49)), 'INVALID_OPTION', '49 cells'],
    ['no cells', () => navGridFromWalkable(10, 5, null as unknown as Uint8Array), 'INVALID_OPTION', 'array-like'],
    ['a side over 4096', () => navGridFromWalkable(5000, 2, new Uint8Array(10_000)), 'INVALID_OPTION', 'width'],
    ['a fractional height', () => navGridFromWalkable(4, 2.5, new Uint8Array(10)), 'INVALID_OPTION', 'height'],
    ['a buffer that is not a nav grid', () => new NavGrid(new SharedArrayBuffer(64)), 'LAYOUT_MISMATCH', 'NAV1'],
    ['an ArrayBuffer', () => new NavGrid(new ArrayBuffer(64) as unknown as SharedArrayBuffer), 'LAYOUT_MISMATCH', 'SharedArrayBuffer'],
  ])('refuses %s with a typed error', (_what, make, code, words) => {
    let err: unknown;
    try {
      make();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe(code);
    expect((err as EngineError).message).toContain(words);
  });
});

describe('path and distances jobs over your own grid, on two workers', () => {
  const grid = navGridFromMovingAi(MAP);

  it('statically: kinds in code, a worker entry of your own that serves them', async () => {
    const engine = await EngineCore.start({ workers: 2, kinds, shared: { nav: grid.sab }, workerFactory: () => new Worker(gridWorker) });
    try {
      expect(await runRounds(engine)).toEqual(new Set([0, 1]));
      expect(engine.stats().failed).toBe(0);
    } finally {
      await engine.shutdown();
    }
  });

  it('by URL: the built subpath module in kindModules, the package\'s own worker entry', async () => {
    const engine = await EngineCore.start({ workers: 2, kindModules: [gridModuleUrl], shared: { nav: grid.sab } });
    try {
      expect(engine.kinds.map((k) => k.name)).toContain('path');
      expect(await runRounds(engine)).toEqual(new Set([0, 1]));
    } finally {
      await engine.shutdown();
    }
  });

  it('inline (workers: 0): the same answers on the engine\'s own thread', async () => {
    const engine = await EngineCore.start({ workers: 0, kinds, shared: { nav: grid.sab } });
    try {
      const PATH = engine.kindId('path');
      const q = pathKind.createParams();
      q.set(QUERIES[0].p);
      expect(engine.submit(PATH, q, 0)).toBeGreaterThanOrEqual(0);
      let cost = -1;
      await pollUntil(engine, (r) => (cost = pathKind.readResults(r.values).cost), () => cost >= 0);
      expect(cost).toBe(27);
    } finally {
      await engine.shutdown();
    }
  });

  it('refuses out-of-range parameters at submit, and a start without a grid at start', async () => {
    const engine = await EngineCore.start({ workers: 0, kinds, shared: { nav: grid.sab } });
    try {
      const q = pathKind.createParams();
      q.set([5000, 0, 1, 1, 16, PATH_MOVES_8, 100]);
      expect(engine.submit(engine.kindId('path'), q)).toBe(Rejection.BadParams);
      q.set([0, 0, 1, 1, 16, 3, 100]); // no such movement model
      expect(engine.submit(engine.kindId('path'), q)).toBe(Rejection.BadParams);
      const f = distancesKind.createParams();
      f.set([0, 0, 0, 0, 300, 4, 0]); // a window wider than MAX_FIELD_SIDE
      expect(engine.submit(engine.kindId('distances'), f)).toBe(Rejection.BadParams);
    } finally {
      await engine.shutdown();
    }
    const failures: [EngineOptions, string][] = [
      [{ workers: 2, kinds, workerFactory: () => new Worker(gridWorker) }, 'shared.nav'],
      [{ workers: 2, kinds, workerFactory: () => new Worker(gridWorker), shared: { nav: new SharedArrayBuffer(64) } }, 'NAV1'],
    ];
    for (const [opts, words] of failures) {
      const err = await EngineCore.start(opts).then(
        async (e) => (await e.shutdown(), null),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('WORKER_INIT_FAILED');
      expect((err as EngineError).message).toContain(words);
    }
  });
});

describe('framejobs/kinds/grid loads no physics engine', () => {
  it('nothing the subpath (or the engine) imports, however deep, is Rapier', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { spec } of importsOf(readFileSync(`${ROOT}${file}`, 'utf8'))) {
        if (spec.startsWith('.')) visit(new URL(spec.replace(/\.js$/, '.ts'), `file:///${file}`).pathname.slice(1));
        else if (spec === '#platform') ['engine/platform-node.ts', 'engine/platform-web.ts'].forEach(visit);
        else packages.add(spec);
      }
    };
    visit('kinds/grid/index.ts');
    visit('engine/index.ts');
    expect(seen.has('kinds/grid/astar.ts')).toBe(true);
    expect([...packages].filter((p) => p.includes('rapier'))).toEqual([]);
    expect([...seen].filter((f) => f.startsWith('kinds/rapier/') || f.startsWith('game/'))).toEqual([]);
  });
});
