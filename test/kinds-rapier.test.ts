/**
 * framejobs/kinds/rapier as a user runs it: static colliders of their own as plain data
 * (a floor, boxes, a rotated box, a ball, a capsule, a cylinder, a triangle), handed over
 * as `config.staticWorld` or packed into `shared.staticWorld`, ray batches and impact
 * predictions on two real workers, registered statically and by URL. Every ray's hit is
 * known from the geometry; both ways of passing the world give the same bits. Bad
 * descriptions end in typed errors.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { EngineOptions, ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import {
  checkStaticWorld,
  definePhysicsKinds,
  kinds,
  packStaticWorld,
  predictKind,
  PREDICT_HIT,
  PREDICT_NX,
  PREDICT_STEP,
  PREDICT_TIME,
  PREDICT_X,
  RAY_BYTES,
  RAY_IN_FLOATS,
  raycastsKind,
  unpackStaticWorld,
  type StaticWorld,
} from '../kinds/rapier/index.js';
import { pollUntil } from './fixtures/engine.js';

const rapierWorker = builtModuleUrl(import.meta.url, './fixtures/rapier-worker.js');
/** The built subpath module, found by the package's name as a user's `import.meta.resolve('framejobs/kinds/rapier')` finds it. */
const rapierModuleUrl = pathToFileURL(createRequire(import.meta.url).resolve('framejobs/kinds/rapier'));

const S = Math.sin(Math.PI / 8);
const C = Math.cos(Math.PI / 8);

/** A user's level: Y up, the floor's top at Y = 0. */
const WORLD: StaticWorld = {
  colliders: [
    { shape: 'box', halfExtents: [50, 0.5, 50], position: [0, -0.5, 0] },
    { shape: 'box', halfExtents: [1, 1, 1], position: [5, 1, 0] },
    // Turned 45 degrees about Y: a corner points along -X, SQRT2 from its centre.
    { shape: 'box', halfExtents: [1, 1, 1], position: [0, 1, 10], rotation: [0, S, 0, C] },
    { shape: 'ball', radius: 1, position: [0, 1, -10] },
    { shape: 'capsule', halfHeight: 1, radius: 0.5, position: [-10, 1.5, 0] },
    { shape: 'cylinder', halfHeight: 1, radius: 2, position: [10, 1, 10] },
    { shape: 'trimesh', vertices: [20, 0, -20, 20, 0, -30, 20, 10, -25], indices: [0, 1, 2] },
  ],
};

/** Segments a -> b and the fraction of each before its first collider (-1: clear). */
const RAYS: { a: [number, number, number]; b: [number, number, number]; t: number }[] = [
  { a: [0, 1, 0], b: [10, 1, 0], t: 0.4 }, // the box's face at x = 4
  { a: [5, 10, 0], b: [5, -10, 0], t: 0.4 }, // its top at y = 2
  { a: [-10, 1, 10], b: [10, 1, 10], t: (10 - Math.SQRT2) / 20 }, // the turned box's corner
  { a: [-10, 1, -10], b: [10, 1, -10], t: 0.45 }, // the ball at x = -1
  { a: [-10, 1.5, -10], b: [-10, 1.5, 10], t: 0.475 }, // the capsule at z = -0.5
  { a: [20, 1, 10], b: [5, 1, 10], t: 8 / 15 }, // the cylinder at x = 12
  { a: [15, 1, -25], b: [25, 1, -25], t: 0.5 }, // the triangle at x = 20
  { a: [0, 5, -5], b: [0, 5, 5], t: -1 }, // above everything
  { a: [30, 1, 30], b: [40, 1, 40], t: -1 }, // beside everything
];

/** Predict queries: px py pz vx vy vz radius steps. */
const DROP = [5, 5, 0, 0, 0, 0, 0.25, 120]; // onto the box's top
const SHOT = [0, 1.5, 0, 20, 0, 0, 0.25, 60]; // at the box's face, falling 0.17 on the way
const SHORT = [0, 10, -30, 0, 0, 0, 0.25, 3]; // three steps of free fall: no touch

interface Round {
  workers: Set<number>;
  /** Result values per tag, for comparing engines bit for bit. */
  values: Map<number, number[]>;
}

/** The rays of one batch into an arena slice; returns the submit options holding it. */
function writeRays(engine: EngineCore): { arenaOffset: number; arenaBytes: number } {
  const bytes = RAY_BYTES * RAYS.length;
  const off = engine.arenaAlloc(bytes);
  expect(off).toBeGreaterThanOrEqual(0);
  const f = engine.arenaF32;
  RAYS.forEach((r, i) => f.set([...r.a, ...r.b], (off >> 2) + i * RAY_IN_FLOATS));
  return { arenaOffset: off, arenaBytes: bytes };
}

/**
 * Rounds of one ray batch and three predictions, until both workers have run jobs;
 * checks every known answer and that every job ends exactly once.
 */
async function runRounds(engine: EngineCore): Promise<Round> {
  const RAYCASTS = engine.kindId('physics.raycasts');
  const PREDICT = engine.kindId('physics.predict');
  const rp = raycastsKind.createParams();
  const pp = predictKind.createParams();
  const workers = new Set<number>();
  const values = new Map<number, number[]>();
  const problems: string[] = [];
  const onResult = (r: ResultView): void => {
    if (values.has(r.tag)) problems.push(`job ${r.tag} ended twice`);
    workers.add(r.worker);
    if (r.status !== Outcome.Done) {
      problems.push(`job ${r.tag}: status ${r.status} ${r.error?.message ?? ''}`);
      return;
    }
    const v = Array.from(r.values.subarray(0, r.valueCount));
    if (r.kind === RAYCASTS) {
      const out = (r.arenaOffset >> 2) + RAY_IN_FLOATS * RAYS.length;
      const t = Array.from(engine.arenaF32.subarray(out, out + RAYS.length));
      v.push(...t);
      t.forEach((got, i) => {
        if (Math.abs(got - RAYS[i].t) > 1e-4) problems.push(`ray ${i}: ${got}, want ${RAYS[i].t}`);
      });
      const blocked = RAYS.filter((x) => x.t >= 0).length;
      if (raycastsKind.readResults(r.values).blocked !== blocked || raycastsKind.readResults(r.values).clear !== RAYS.length - blocked) {
        problems.push(`ray batch ${r.tag}: counts ${v.slice(0, 2)}`);
      }
    }
    values.set(r.tag, v);
  };
  let submitted = 0;
  for (let round = 0; round < 40 && workers.size < 2; round++) {
    const opts = writeRays(engine);
    rp.count = RAYS.length;
    expect(engine.submit(RAYCASTS, rp, round * 4, opts)).toBeGreaterThanOrEqual(0);
    [DROP, SHOT, SHORT].forEach((q, i) => {
      pp.set(q);
      expect(engine.submit(PREDICT, pp, round * 4 + 1 + i)).toBeGreaterThanOrEqual(0);
    });
    submitted += 4;
    await pollUntil(engine, onResult, () => values.size + problems.length >= submitted);
  }
  expect(problems).toEqual([]);
  expect(values.size).toBe(submitted);
  // Predictions: the same answer every round, and the one the geometry gives.
  const drop = values.get(1)!;
  const g = 9.81;
  const analytic = Math.sqrt((2 * (5 - 2.25)) / g);
  expect(drop[PREDICT_HIT]).toBe(1);
  expect(drop[PREDICT_X + 1]).toBeCloseTo(2.25, 2); // centre one radius above the box's top
  // Symplectic Euler reaches it a little before the analytic time.
  expect(drop[PREDICT_TIME]).toBeGreaterThan(analytic - 2 / 30);
  expect(drop[PREDICT_TIME]).toBeLessThan(analytic + 1 / 30);
  expect(Math.abs(drop[PREDICT_NX + 1])).toBeCloseTo(1, 3);
  const shot = values.get(2)!;
  expect(shot[PREDICT_HIT]).toBe(1);
  expect(shot[PREDICT_X]).toBeCloseTo(3.75, 3);
  expect(shot[PREDICT_X + 1]).toBeGreaterThan(1.25);
  expect(shot[PREDICT_X + 1]).toBeLessThan(1.4);
  expect(Math.abs(shot[PREDICT_NX])).toBeCloseTo(1, 3);
  const short = values.get(3)!;
  expect([short[PREDICT_HIT], short[PREDICT_STEP], short[PREDICT_TIME]]).toEqual([0, -1, -1]);
  expect(short[PREDICT_X + 1]).toBeLessThan(10); // it fell a little, nowhere near the floor
  for (let tag = 4; tag < submitted; tag++) expect(values.get(tag), `job ${tag} against round 0`).toEqual(values.get(tag % 4));
  return { workers, values };
}

describe('Rapier jobs over your own static colliders, on two workers', () => {
  let fromConfig: Round;

  it('statically, the world in config: every ray hit and prediction as the geometry says', async () => {
    const engine = await EngineCore.start({ workers: 2, kinds, config: { staticWorld: WORLD }, workerFactory: () => new Worker(rapierWorker) });
    try {
      fromConfig = await runRounds(engine);
      expect(fromConfig.workers).toEqual(new Set([0, 1]));
    } finally {
      await engine.shutdown();
    }
  });

  it('by URL, the world packed in shared memory: the same bits', async () => {
    const engine = await EngineCore.start({ workers: 2, kindModules: [rapierModuleUrl], shared: { staticWorld: packStaticWorld(WORLD) } });
    try {
      const packed = await runRounds(engine);
      expect(packed.workers).toEqual(new Set([0, 1]));
      for (let tag = 0; tag < 4; tag++) expect(packed.values.get(tag)).toEqual(fromConfig.values.get(tag));
    } finally {
      await engine.shutdown();
    }
  });

  it('integrates the world\'s own gravity and step', async () => {
    const still: StaticWorld = { ...WORLD, gravity: [0, 0, 0], stepSeconds: 0.05 };
    const engine = await EngineCore.start({ workers: 0, kinds, config: { staticWorld: still } });
    try {
      const pp = predictKind.createParams();
      pp.set(SHOT);
      expect(engine.submit(engine.kindId('physics.predict'), pp)).toBeGreaterThanOrEqual(0);
      let out: number[] = [];
      await pollUntil(engine, (r) => (out = Array.from(r.values.subarray(0, r.valueCount))), () => out.length > 0);
      // No gravity: straight along x, the centre one radius before the face at x = 4, at t = 3.75 / 20.
      expect(out[PREDICT_HIT]).toBe(1);
      expect(out[PREDICT_TIME]).toBeCloseTo(0.1875, 4);
      expect(out[PREDICT_STEP]).toBe(3); // steps of 0.05 s: the touch is inside the fourth
      expect(out[PREDICT_X]).toBeCloseTo(3.75, 4);
      expect(out[PREDICT_X + 1]).toBe(1.5);
      expect(Math.abs(out[PREDICT_NX])).toBeCloseTo(1, 4);
    } finally {
      await engine.shutdown();
    }
  });

  it('refuses bad submits: a batch out of range, a ball too big, a slice too small for its rays', async () => {
    const engine = await EngineCore.start({ workers: 0, kinds, config: { staticWorld: WORLD } });
    try {
      const RAYCASTS = engine.kindId('physics.raycasts');
      const rp = raycastsKind.createParams();
      rp.count = 0;
      expect(engine.submit(RAYCASTS, rp)).toBe(Rejection.BadParams);
      rp.count = 5000;
      expect(engine.submit(RAYCASTS, rp)).toBe(Rejection.BadParams);
      const pp = predictKind.createParams();
      pp.set(DROP);
      pp.radius = 100;
      expect(engine.submit(engine.kindId('physics.predict'), pp)).toBe(Rejection.BadParams);
      // A caller's own slice overrides the kind's size: too small for 4 rays, the job fails with its reason.
      const off = engine.arenaAlloc(2 * RAY_BYTES);
      rp.count = 4;
      expect(engine.submit(RAYCASTS, rp, 0, { arenaOffset: off, arenaBytes: 2 * RAY_BYTES })).toBeGreaterThanOrEqual(0);
      let failed: ResultView['error'] = null;
      let ended = false;
      await pollUntil(engine, (r) => ((ended = true), (failed = r.error)), () => ended);
      expect(failed!.reason).toBe('threw');
      expect(failed!.message).toContain('cannot hold 4 rays');
    } finally {
      await engine.shutdown();
    }
  });
});

describe('static worlds as plain data', () => {
  it('packs and unpacks every shape to the same checked world', () => {
    const sab = packStaticWorld({ ...WORLD, gravity: [0, -3, 1], stepSeconds: 0.02 });
    const back = unpackStaticWorld(sab);
    expect(checkStaticWorld(back)).toEqual(checkStaticWorld({ ...WORLD, gravity: [0, -3, 1], stepSeconds: 0.02 }));
    expect(checkStaticWorld(back).colliders.map((c) => c.shape)).toEqual([1, 1, 1, 2, 3, 4, 5]);
    // Defaults: 9.81 down, one 30 Hz frame per step.
    expect(checkStaticWorld({ colliders: [] })).toMatchObject({ gravity: [0, -9.81, 0], stepSeconds: 1 / 30 });
  });

  const box = { shape: 'box', halfExtents: [1, 1, 1] } as const;
  it.each([
    ['no object', null, 'staticWorld must be an object'],
    ['colliders not an array', { colliders: 3 }, 'colliders must be an array'],
    ['an unknown shape', { colliders: [box, { shape: 'cone', radius: 1 }] }, 'colliders[1].shape must be one of'],
    ['a negative radius', { colliders: [box, { shape: 'ball', radius: -1 }] }, 'colliders[1].radius must be > 0'],
    ['a NaN half extent', { colliders: [{ shape: 'box', halfExtents: [1, NaN, 1] }] }, 'halfExtents[1] must be a finite number'],
    ['a position of two numbers', { colliders: [{ ...box, position: [1, 2] }] }, 'position must be [x, y, z]'],
    ['a zero rotation', { colliders: [{ ...box, rotation: [0, 0, 0, 0] }] }, 'rotation must not be all zeros'],
    ['a capsule without a height', { colliders: [{ shape: 'capsule', radius: 1 }] }, 'halfHeight must be a finite number'],
    ['a mesh index past its vertices', { colliders: [{ shape: 'trimesh', vertices: [0, 0, 0, 1, 0, 0, 0, 0, 1], indices: [0, 1, 3] }] }, 'indices[2] must be a vertex number in [0, 2]'],
    ['a mesh of two vertices', { colliders: [{ shape: 'trimesh', vertices: [0, 0, 0, 1, 0, 0], indices: [0, 1, 1] }] }, 'vertices must hold x, y, z for at least 3'],
    ['a step of 0 s', { colliders: [], stepSeconds: 0 }, 'stepSeconds must be > 0'],
    ['a step of 2 s', { colliders: [], stepSeconds: 2 }, 'stepSeconds must be at most 1'],
    ['gravity of one number', { colliders: [], gravity: 9.81 }, 'gravity must be [x, y, z]'],
  ])('refuses %s with INVALID_OPTION naming the field', (_what, world, words) => {
    let err: unknown;
    try {
      packStaticWorld(world as StaticWorld);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('INVALID_OPTION');
    expect((err as EngineError).message).toContain(words);
  });

  it('refuses a buffer that is not a packed world with LAYOUT_MISMATCH', () => {
    const good = packStaticWorld(WORLD);
    const cut = new SharedArrayBuffer(good.byteLength - 8);
    new Uint8Array(cut).set(new Uint8Array(good, 0, cut.byteLength));
    const newer = new SharedArrayBuffer(good.byteLength);
    new Uint8Array(newer).set(new Uint8Array(good));
    new Float64Array(newer)[1] = 2;
    const badShape = new SharedArrayBuffer(good.byteLength);
    new Uint8Array(badShape).set(new Uint8Array(good));
    new Float64Array(badShape)[8] = 9;
    for (const [sab, words] of [
      [new SharedArrayBuffer(64), 'SWD1'],
      [new ArrayBuffer(64) as unknown as SharedArrayBuffer, 'made by packStaticWorld'],
      [cut, 'words'],
      [newer, 'version 2'],
      [badShape, 'unknown shape code 9'],
    ] as const) {
      let err: unknown;
      try {
        unpackStaticWorld(sab);
      } catch (e) {
        err = e;
      }
      expect((err as EngineError).code, words).toBe('LAYOUT_MISMATCH');
      expect((err as EngineError).message).toContain(words);
    }
  });

  it('a start with a missing, doubled or bad world fails WORKER_INIT_FAILED saying why', async () => {
    const factory = { workers: 2, kinds, workerFactory: () => new Worker(rapierWorker) } as const;
    const bad: [EngineOptions, string][] = [
      [{ ...factory }, 'need a static world'],
      [{ ...factory, config: { staticWorld: WORLD }, shared: { staticWorld: packStaticWorld(WORLD) } }, 'given twice'],
      [{ ...factory, config: { staticWorld: { colliders: [{ shape: 'ball', radius: 0 }] } } }, 'colliders[0].radius must be > 0'],
      [{ ...factory, config: { staticWorld: 'boxes' } }, 'must be an object'],
      [{ ...factory, shared: { staticWorld: new SharedArrayBuffer(64) } }, 'SWD1'],
    ];
    for (const [opts, words] of bad) {
      const err = await EngineCore.start(opts).then(
        async (e) => (await e.shutdown(), null),
        (e: unknown) => e,
      );
      expect(err, words).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('WORKER_INIT_FAILED');
      expect((err as EngineError).message).toContain(words);
    }
  });

  it('definePhysicsKinds wants a scene source', () => {
    expect(() => definePhysicsKinds({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_KIND' }));
    const own = definePhysicsKinds({ scene: () => Promise.reject(new Error('unused')), predictName: 'my.predict', raycastsName: 'my.rays' });
    expect([own.predictKind.name, own.raycastsKind.name]).toEqual(['my.predict', 'my.rays']);
  });
});
