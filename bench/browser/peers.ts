/**
 * The four peers of the browser bench, each behind the same small surface: keep `window`
 * tiny jobs in flight for some seconds, and time one job at a time.
 *
 * - engine: EngineCore on Web Workers, the built-in `noop` kind, submit and poll on the
 *   page thread. Its loop is paced by MessageChannel tasks: each task refills the window
 *   and polls once, then gives the event loop back, so the page never blocks.
 * - comlink: one comlink proxy per worker, calls spread round-robin, a promise per call.
 * - workerpool: one pool (its browser build, module Web Workers), `exec('add', ...)`.
 * - postmessage: the floor of message passing: `[id, a, b]` out, `[id, sum]` back, one
 *   listener per worker, no promise per job.
 *
 * Every peer has the same number of workers and runs the same function (tiny.ts).
 * Page thread only.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import { pool as workerPool } from 'workerpool';
import type { ResultView } from '../../engine/api.js';
import { EngineCore } from '../../engine/core.js';
import { Outcome } from '../../engine/outcome.js';
import { Ledger } from './ledger.js';
import type { PeerName, Percentiles } from './protocol.js';

/** Jobs per bundle in the engine's bundled passes. */
const BUNDLE = 1024;

/** Round trips run untimed before the timed ones (compiles every path). */
const WARM_ROUND_TRIPS = 50;

export interface Peer {
  readonly name: PeerName;
  readonly ledger: Ledger;
  /** Keeps `window` jobs in flight for `seconds`, then waits for the last; jobs per second. */
  throughput(seconds: number, window: number): Promise<number>;
  /** `samples` jobs one at a time; before each, `idleMs` of nothing (0: back to back). µs. */
  roundTrip(samples: number, idleMs: number): Promise<Percentiles>;
  close(): Promise<void>;
}

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The next task of the page's event loop, without a timer's clamping. Rendering, timers
 * and worker messages all get their turn in between. `scheduler.postTask` where the
 * browser has it, else a MessageChannel message to ourselves.
 */
interface TaskScheduler {
  postTask(cb: () => void, options?: { priority?: 'user-blocking' | 'user-visible' | 'background' }): Promise<void>;
}
const taskScheduler = (globalThis as { scheduler?: TaskScheduler }).scheduler;
const channel = new MessageChannel();
let wake: (() => void) | null = null;
channel.port1.onmessage = () => {
  const w = wake;
  wake = null;
  w?.();
};
const noop = (): void => {};
export function nextTask(): Promise<void> {
  if (taskScheduler) return taskScheduler.postTask(noop, { priority: 'user-visible' });
  return new Promise((resolve) => {
    wake = resolve;
    channel.port2.postMessage(null);
  });
}

export function percentiles(us: Float64Array): Percentiles {
  const s = Float64Array.from(us).sort();
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(s.length * q))];
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

// ------------------------------------------------------------------ the engine

export class EnginePeer implements Peer {
  readonly name = 'engine';
  readonly ledger = new Ledger();
  readonly engine: EngineCore;
  private readonly noop: number;
  private readonly params = new Float64Array(2);
  private received = 0;
  /** The last result's submit-to-publish and run times, ms: where a round trip went. */
  private lastLatencyMs = 0;
  private lastRunMs = 0;
  /**
   * Of each timed round trip, µs: `pickup` from submit to the handler's start (publish,
   * wake-up, the worker's way to the record), `delivery` from the result's publish to
   * the poll that saw it (the page's own way back to its loop). Filled by roundTrip.
   */
  parts: { pickup: Percentiles; delivery: Percentiles } | null = null;
  private readonly sink = (r: ResultView): void => {
    this.received++;
    this.lastLatencyMs = r.latencyMs;
    this.lastRunMs = r.runMs;
    this.ledger.takeTiny(r.tag, r.status === Outcome.Done ? r.values[0] : NaN);
  };

  /** The books of the bundled passes (bundleThroughput), apart from the peer's own. */
  readonly bundleLedger = new Ledger();
  private bundleReceived = 0;
  private readonly bundleParams = new Float64Array(2 * BUNDLE);
  private readonly bundleSink = (r: ResultView): void => {
    this.bundleReceived++;
    // A bundle's tag is its first job's ledger id; its jobs follow in order.
    this.bundleLedger.takeTiny(r.tag + r.item, r.status === Outcome.Done ? r.values[0] : NaN);
  };

  private constructor(engine: EngineCore) {
    this.engine = engine;
    this.noop = engine.kindId('noop');
  }

  static async start(workers: number | undefined, base: URL): Promise<EnginePeer> {
    const engine = await EngineCore.start({ ...(workers === undefined ? {} : { workers }), workerUrl: new URL('engine-worker.entry.js', base) });
    return new EnginePeer(engine);
  }

  private submitNext(): boolean {
    const i = this.ledger.next();
    this.params[0] = i;
    this.params[1] = 1;
    if (this.engine.submit(this.noop, this.params, i) >= 0) return true;
    this.ledger.unissue();
    return false;
  }

  async throughput(seconds: number, window: number): Promise<number> {
    const e = this.engine;
    const first = this.received;
    const issued = this.ledger.submitted;
    const start = now();
    const end = start + seconds * 1000;
    while (now() < end) {
      while (this.ledger.submitted - this.received < window && this.submitNext()) {
        // refilled one
      }
      e.poll(this.sink);
      await nextTask();
    }
    while (this.received < this.ledger.submitted) {
      e.poll(this.sink);
      if (this.received < this.ledger.submitted) await nextTask();
    }
    const jobs = this.received - first;
    if (jobs !== this.ledger.submitted - issued) throw new Error('engine throughput: results and submits disagree');
    return jobs / ((now() - start) / 1000);
  }

  /**
   * The same tiny jobs submitted as bundles of BUNDLE (submitBundle): each job still
   * checked, counted and delivered on its own, under its bundle's id. Keeps `window`
   * jobs (rounded up to whole bundles) in flight, paced like throughput().
   */
  async bundleThroughput(seconds: number, window: number): Promise<number> {
    const e = this.engine;
    const ledger = this.bundleLedger;
    const first = this.bundleReceived;
    const issued = ledger.submitted;
    const start = now();
    const end = start + seconds * 1000;
    const submitBundle = (): boolean => {
      const base = ledger.submitted;
      for (let j = 0; j < BUNDLE; j++) {
        const i = ledger.next();
        this.bundleParams[2 * j] = i;
        this.bundleParams[2 * j + 1] = 1;
      }
      if (e.submitBundle(this.noop, this.bundleParams, BUNDLE, base) >= 0) return true;
      for (let j = 0; j < BUNDLE; j++) ledger.unissue();
      return false;
    };
    while (now() < end) {
      while (ledger.submitted - this.bundleReceived < Math.max(window, 2 * BUNDLE) && submitBundle()) {
        // refilled one bundle
      }
      e.poll(this.bundleSink);
      await nextTask();
    }
    while (this.bundleReceived < ledger.submitted) {
      e.poll(this.bundleSink);
      if (this.bundleReceived < ledger.submitted) await nextTask();
    }
    const jobs = this.bundleReceived - first;
    if (jobs !== ledger.submitted - issued) throw new Error('engine bundle throughput: results and submits disagree');
    return jobs / ((now() - start) / 1000);
  }

  async roundTrip(samples: number, idleMs: number): Promise<Percentiles> {
    const e = this.engine;
    const us = new Float64Array(samples);
    const pickup = new Float64Array(samples);
    const delivery = new Float64Array(samples);
    for (let s = -WARM_ROUND_TRIPS; s < samples; s++) {
      if (idleMs > 0) await sleep(idleMs);
      const target = this.received + 1;
      const t0 = now();
      if (!this.submitNext()) throw new Error('engine round trip: a submit was refused on an idle engine');
      e.flush();
      e.poll(this.sink);
      while (this.received < target) {
        // Back to back, the page spins on poll as a tight loop would. After idleness it
        // waits as a page with nothing else to do would, the way the other peers wait on
        // their promises: a page spinning on poll holds a core the worker needs to wake on.
        if (idleMs > 0) await e.whenResults(1000);
        else await nextTask();
        e.poll(this.sink);
      }
      if (s < 0) continue;
      us[s] = (now() - t0) * 1000;
      pickup[s] = Math.max(0, (this.lastLatencyMs - this.lastRunMs) * 1000);
      delivery[s] = Math.max(0, us[s] - this.lastLatencyMs * 1000);
    }
    this.parts = { pickup: percentiles(pickup), delivery: percentiles(delivery) };
    return percentiles(us);
  }

  close(): Promise<void> {
    return this.engine.shutdown({ timeoutMs: 2000 }).then(() => undefined);
  }
}

// ------------------------------------------------------------------ promise-based peers

/** Throughput of a peer whose call returns a promise: refill on every answer. */
function pumpCalls(call: (a: number, b: number) => PromiseLike<number>, ledger: Ledger, seconds: number, window: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let inflight = 0;
    let done = 0;
    let failed = false;
    const start = now();
    const end = start + seconds * 1000;
    const launch = (): void => {
      while (inflight < window && now() < end) {
        const i = ledger.next();
        inflight++;
        call(i, 1).then(
          (v) => {
            ledger.takeTiny(i, v);
            inflight--;
            done++;
            if (failed) return;
            if (now() < end) launch();
            else if (inflight === 0) resolve(done / ((now() - start) / 1000));
          },
          (err: unknown) => {
            failed = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      }
    };
    launch();
  });
}

async function callRoundTrip(call: (a: number, b: number) => PromiseLike<number>, ledger: Ledger, samples: number, idleMs: number): Promise<Percentiles> {
  const us = new Float64Array(samples);
  for (let s = -WARM_ROUND_TRIPS; s < samples; s++) {
    if (idleMs > 0) await sleep(idleMs);
    const i = ledger.next();
    const t0 = now();
    const v = await call(i, 1);
    if (s >= 0) us[s] = (now() - t0) * 1000;
    ledger.takeTiny(i, v);
  }
  return percentiles(us);
}

interface TinyApi {
  add(a: number, b: number): number;
}

export class ComlinkPeer implements Peer {
  readonly name = 'comlink';
  readonly ledger = new Ledger();
  private readonly workers: Worker[] = [];
  private readonly proxies: Remote<TinyApi>[] = [];
  private next = 0;
  private readonly call = (a: number, b: number): Promise<number> => {
    const p = this.proxies[this.next];
    this.next = (this.next + 1) % this.proxies.length;
    return p.add(a, b);
  };

  constructor(workers: number, base: URL) {
    for (let i = 0; i < workers; i++) {
      const w = new Worker(new URL('comlink-worker.entry.js', base), { type: 'module', name: `comlink-${i}` });
      this.workers.push(w);
      this.proxies.push(wrap<TinyApi>(w));
    }
  }

  throughput(seconds: number, window: number): Promise<number> {
    return pumpCalls(this.call, this.ledger, seconds, window);
  }

  roundTrip(samples: number, idleMs: number): Promise<Percentiles> {
    return callRoundTrip(this.call, this.ledger, samples, idleMs);
  }

  async close(): Promise<void> {
    for (const p of this.proxies) p[releaseProxy]();
    for (const w of this.workers) w.terminate();
  }
}

export class WorkerpoolPeer implements Peer {
  readonly name = 'workerpool';
  readonly ledger = new Ledger();
  private readonly pool: ReturnType<typeof workerPool>;
  private readonly call = (a: number, b: number): PromiseLike<number> => this.pool.exec('add', [a, b]) as PromiseLike<number>;

  constructor(workers: number, base: URL) {
    this.pool = workerPool(new URL('workerpool-worker.entry.js', base).href, {
      minWorkers: workers,
      maxWorkers: workers,
      workerType: 'web',
      workerOpts: { type: 'module' },
    });
  }

  throughput(seconds: number, window: number): Promise<number> {
    return pumpCalls(this.call, this.ledger, seconds, window);
  }

  roundTrip(samples: number, idleMs: number): Promise<Percentiles> {
    return callRoundTrip(this.call, this.ledger, samples, idleMs);
  }

  async close(): Promise<void> {
    await this.pool.terminate(true);
  }
}

// ------------------------------------------------------------------ bare postMessage

export class PostMessagePeer implements Peer {
  readonly name = 'postmessage';
  readonly ledger = new Ledger();
  private readonly workers: Worker[] = [];
  private next = 0;
  private inflight = 0;
  /** Called on every answer, after the books: the running loop's refill or wake-up. */
  private onAnswer: () => void = () => {};

  constructor(workers: number, base: URL) {
    for (let i = 0; i < workers; i++) {
      const w = new Worker(new URL('postmessage-worker.entry.js', base), { type: 'module', name: `postmessage-${i}` });
      w.onmessage = (e: MessageEvent<[number, number]>) => {
        this.ledger.takeTiny(e.data[0], e.data[1]);
        this.inflight--;
        this.onAnswer();
      };
      this.workers.push(w);
    }
  }

  private send(): void {
    const i = this.ledger.next();
    const w = this.workers[this.next];
    this.next = (this.next + 1) % this.workers.length;
    this.inflight++;
    w.postMessage([i, i, 1]);
  }

  throughput(seconds: number, window: number): Promise<number> {
    return new Promise((resolve) => {
      let done = 0;
      const start = now();
      const end = start + seconds * 1000;
      const refill = (): void => {
        while (this.inflight < window && now() < end) this.send();
      };
      this.onAnswer = () => {
        done++;
        if (now() < end) refill();
        else if (this.inflight === 0) {
          this.onAnswer = () => {};
          resolve(done / ((now() - start) / 1000));
        }
      };
      refill();
    });
  }

  async roundTrip(samples: number, idleMs: number): Promise<Percentiles> {
    const us = new Float64Array(samples);
    for (let s = -WARM_ROUND_TRIPS; s < samples; s++) {
      if (idleMs > 0) await sleep(idleMs);
      const t0 = now();
      await new Promise<void>((resolve) => {
        this.onAnswer = resolve;
        this.send();
      });
      if (s >= 0) us[s] = (now() - t0) * 1000;
    }
    this.onAnswer = () => {};
    return percentiles(us);
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.terminate();
  }
}
