/** Option checks added for the package: unknown keys, config that cannot be cloned, URL rules, the default worker count. */
import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { defineKind } from '../engine/kind.js';
import type { EngineError } from '../engine/errors.js';
import { MAX_DEFAULT_WORKERS, defaultWorkerCount, nearestKey, resolveOptions } from '../engine/options.js';
import { platform } from '../engine/platform-node.js';

const failure = async (p: Promise<unknown>): Promise<EngineError> => {
  try {
    await p;
  } catch (err) {
    return err as EngineError;
  }
  throw new Error('expected a rejection');
};

const start = (opts: Record<string, unknown>): Promise<EngineCore> => EngineCore.start({ workers: 0, ...opts } as EngineOptions);

describe('unknown option keys', () => {
  it.each([
    ['worker', 'workers'],
    ['maxQueueMS', 'maxQueueMs'],
    ['kindModule', 'kindModules'],
    ['heartBeatMs', 'heartbeatMs'],
    ['workerfactory', 'workerFactory'],
  ])('%s is refused with INVALID_OPTION, naming %s', async (key, near) => {
    const err = await failure(start({ [key]: 2 }));
    expect(err.code).toBe('INVALID_OPTION');
    expect(err.message).toContain(`options.${key} is not an option; did you mean ${near}?`);
  });

  it('a key near nothing lists the options', async () => {
    const err = await failure(start({ frobnicate: true }));
    expect(err.code).toBe('INVALID_OPTION');
    expect(err.message).toContain('the options are workers, kinds, kindModules');
    expect(nearestKey('zzzzzzzzzzzz')).toBeNull();
  });
});

describe('config must survive structuredClone', () => {
  it.each([
    ['a function', { onHit: () => 1 }],
    ['a symbol', { s: Symbol('x') }],
    ['a nested function', { deep: { list: [1, () => 2] } }],
    ['a getter that throws a Proxy whose reads throw', Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Proxy({}, { get: () => { throw new Error('trap'); } }); } })],
  ])('%s is refused with INVALID_OPTION', async (_what, config) => {
    const err = await failure(start({ config }));
    expect(err.code).toBe('INVALID_OPTION');
    expect(err.message).toContain('options.config must survive structuredClone');
  });

  it('an array as config is refused', async () => {
    expect((await failure(start({ config: [1, 2] }))).code).toBe('INVALID_OPTION');
  });

  it('plain data, typed arrays and maps are accepted', async () => {
    const e = await start({ config: { level: 3, name: 'x', grid: new Float64Array(4), table: new Map([[1, 'a']]) } });
    await e.shutdown();
  });
});

describe('worker and module locations', () => {
  it.each([
    ['a relative kind module path', { kindModules: ['./kinds.js'] }],
    ['a bare kind module name', { kindModules: ['kinds.js'] }],
    ['a relative worker path', { workerUrl: '../worker.js' }],
    ['a workerFactory that is not a function', { workerFactory: 'worker.js' }],
    ['kinds that is not an array', { kinds: {} }],
    ['kindModules that is not an array', { kindModules: 'x.js' }],
  ])('%s is refused with INVALID_OPTION', async (_what, opts) => {
    expect((await failure(start(opts))).code).toBe('INVALID_OPTION');
  });

  it('the relative-path message says what to pass instead', async () => {
    const err = await failure(start({ kindModules: ['./kinds.js'] }));
    expect(err.message).toContain('new URL("./kinds.js", import.meta.url)');
  });

  it('a kinds entry not made by defineKind is refused with INVALID_KIND', async () => {
    expect((await failure(start({ kinds: [{ name: 'fake', params: [], results: [], run() {} }] }))).code).toBe('INVALID_KIND');
  });

  it('a kind that only says it is one is read once and checked as defineKind checks a spec', async () => {
    const fail = (): never => {
      throw new Error('trap');
    };
    const real = defineKind({ name: 'opt.real', params: [{ name: 'a', type: 'f64' }], results: ['r'], run() {} });
    const forged = (extra: Record<string, unknown>): unknown => ({ __kind: true, name: 'opt.forged', params: [], results: [], run() {}, createParams: real.createParams, readResults: real.readResults, ...extra });
    const refused: [string, unknown, string][] = [
      ['a BigInt deadline', forged({ deadlineFrames: 1n }), 'INVALID_KIND'],
      ['params whose reads throw', forged({ params: new Proxy([], { get: fail }) }), 'INVALID_KIND'],
      ['a name getter that throws', { ...(forged({}) as object), get name(): string { return fail(); } }, 'INVALID_KIND'],
      ['no createParams', { __kind: true, name: 'opt.forged', params: [], results: [], run() {} }, 'INVALID_KIND'],
      ['a Proxy whose reads throw', new Proxy({}, { get: fail }), 'INVALID_KIND'],
    ];
    for (const [what, kind, code] of refused) expect((await failure(start({ kinds: [kind as never] }))).code, what).toBe(code);
    expect((await failure(start({ kinds: new Proxy([], { get: fail }) as never }))).code).toBe('INVALID_OPTION');
    // A well-formed one (another copy of defineKind made it, say) is taken, as a frozen copy.
    let reads = 0;
    const other = forged({
      get deadlineFrames(): number {
        reads++;
        return reads === 1 ? 3 : Number.NaN;
      },
    });
    const e = await start({ workers: 0, kinds: [other as never, real] });
    try {
      const k = e.kinds.find((x) => x.name === 'opt.forged')!;
      expect([k.deadlineFrames, reads, Object.isFrozen(k)]).toEqual([3, 1, true]);
      expect(e.kinds).toContain(real);
    } finally {
      await e.shutdown();
    }
  });

  it('absolute paths and URLs are taken as they are', () => {
    expect(resolveOptions({ workers: 0, kindModules: ['/srv/kinds.js'] }).kindModules).toEqual(['file:///srv/kinds.js']);
    expect(resolveOptions({ workers: 0, kindModules: ['https://example.test/k.js'] }).kindModules).toEqual(['https://example.test/k.js']);
    expect(resolveOptions({ workers: 0, kindModules: [new URL('file:///a/b.js')] }).kindModules).toEqual(['file:///a/b.js']);
  });

  it('a workerFactory takes precedence over workerUrl; Node defaults to the package worker entry', () => {
    const factory = (): never => {
      throw new Error('not called');
    };
    expect(resolveOptions({ workers: 1, workerFactory: factory, workerUrl: 'file:///w.js' }).workerSource).toBe(factory);
    expect(resolveOptions({ workers: 1, workerUrl: 'file:///w.js' }).workerSource).toBe('file:///w.js');
    expect(String(resolveOptions({ workers: 1 }).workerSource)).toMatch(/\/dist\/engine\/worker-entry\.js$/);
  });
});

describe('default worker count', () => {
  it('is the cores minus one, at least 1, at most MAX_DEFAULT_WORKERS', () => {
    expect(defaultWorkerCount(1)).toBe(1);
    expect(defaultWorkerCount(2)).toBe(1);
    expect(defaultWorkerCount(8)).toBe(7);
    expect(defaultWorkerCount(128)).toBe(MAX_DEFAULT_WORKERS);
    expect(defaultWorkerCount(Number.NaN)).toBe(1);
  });

  it("follows this machine's cores when workers is not given", () => {
    expect(resolveOptions({}).workers).toBe(defaultWorkerCount(platform.cores()));
    expect(platform.cores()).toBeGreaterThanOrEqual(1);
  });
});

describe('option values whose conversion runs code', () => {
  const trap = new Proxy({}, {
    get: () => {
      throw new Error('trap');
    },
  });
  it.each(['workers', 'jobCapacity', 'ringCapacity', 'arenaBytes', 'heartbeatMs', 'hangTimeoutMs', 'maxQueueMs', 'workerNice', 'backgroundWorkers', 'maxRespawnsPerMinute', 'batchThreads', 'framePacing', 'trace'])(
    'a Proxy as %s is refused with INVALID_OPTION, not the Proxy\'s own error',
    async (key) => {
      const err = await failure(start({ [key]: trap }));
      expect(err.code).toBe('INVALID_OPTION');
      expect(err.message).not.toContain('trap');
    },
  );

  it('a trace options object whose events read throws is refused with INVALID_OPTION', async () => {
    const err = await failure(start({ trace: Object.defineProperty({}, 'events', { get: () => { throw new Error('events'); }, enumerable: true }) }));
    expect(err.code).toBe('INVALID_OPTION');
  });
});
