/**
 * The ceiling for per-job overhead: a bare SharedArrayBuffer ring between the main thread
 * and one worker, moving the same tiny job as the engine's `noop` (the sum of two
 * numbers) with batched publishing and nothing else: no job slots, no ids, no validation,
 * no accounting, no deadlines, no sleeping within a run. `npm run bench` measures it in
 * the same run as the engine and reports the engine's ratio to it.
 */
import { Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../engine/paths.js';

/** The control words, each on a cache line of its own. */
export const BARE = {
  JOB_TAIL: 0,
  JOB_HEAD: 16,
  RES_TAIL: 32,
  RES_HEAD: 48,
  /** 1 while a run is on; the worker sleeps on it between runs. */
  GO: 64,
  STOP: 80,
  CONTROL_WORDS: 96,
  CONTROL_BYTES: 384,
} as const;

export interface BareInit {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
}

/** Jobs submitted per publish. */
const BATCH = 256;

/**
 * The bare ring and its worker, kept between runs so runs can take turns with the engine's
 * (tiny-interleaved.ts): between runs the worker sleeps, as the engine's idle workers do.
 */
export class BareRing {
  private readonly ctl: Int32Array;
  private readonly jobs: Float64Array;
  private readonly results: Float64Array;
  private readonly capacity: number;
  private readonly worker: Worker;
  private tail = 0;
  private resHead = 0;
  private headSeen = 0;

  private constructor(capacity: number) {
    const sab = new SharedArrayBuffer(BARE.CONTROL_BYTES + capacity * 24);
    this.capacity = capacity;
    this.ctl = new Int32Array(sab, 0, BARE.CONTROL_WORDS);
    this.jobs = new Float64Array(sab, BARE.CONTROL_BYTES, capacity * 2);
    this.results = new Float64Array(sab, BARE.CONTROL_BYTES + capacity * 16, capacity);
    this.worker = new Worker(builtModuleUrl(import.meta.url, './bare-ring-worker.js'), { workerData: { sab, capacity } satisfies BareInit });
  }

  static async start(capacity = 16384): Promise<BareRing> {
    const ring = new BareRing(capacity);
    await new Promise<void>((resolve, reject) => {
      ring.worker.once('online', () => resolve());
      ring.worker.once('error', reject);
    });
    return ring;
  }

  /** Moves jobs for `seconds`, waits for every result, checks every sum. */
  run(seconds: number): { jobs: number; perSecond: number } {
    const { ctl, jobs, results, capacity } = this;
    const mask = capacity - 1;
    let tail = this.tail;
    let resHead = this.resHead;
    let headSeen = this.headSeen;
    let submitted = 0;
    let received = 0;
    // Sums stay exact: inputs are kept small (a run moves over 2^26 jobs).
    let checksum = 0;
    let expected = 0;
    const drain = (): void => {
      const resTail = Atomics.load(ctl, BARE.RES_TAIL);
      while (resHead !== resTail) {
        checksum += results[resHead & mask];
        resHead = (resHead + 1) | 0;
        received++;
      }
      Atomics.store(ctl, BARE.RES_HEAD, resHead);
    };
    Atomics.store(ctl, BARE.GO, 1);
    Atomics.notify(ctl, BARE.GO);
    const start = performance.now();
    const end = start + seconds * 1000;
    let spins = 0;
    while ((++spins & 255) !== 0 || performance.now() < end) {
      if (((tail - headSeen) | 0) > capacity - BATCH) headSeen = Atomics.load(ctl, BARE.JOB_HEAD);
      if (((tail - headSeen) | 0) <= capacity - BATCH && ((tail - resHead) | 0) <= capacity - BATCH) {
        for (let b = 0; b < BATCH; b++) {
          const j = (tail & mask) * 2;
          jobs[j] = submitted & 0xffff;
          jobs[j + 1] = 1;
          expected += (submitted & 0xffff) + 1;
          tail = (tail + 1) | 0;
          submitted++;
        }
        Atomics.store(ctl, BARE.JOB_TAIL, tail);
      }
      drain();
    }
    while (received < submitted) drain();
    const elapsed = (performance.now() - start) / 1000;
    Atomics.store(ctl, BARE.GO, 0);
    this.tail = tail;
    this.resHead = resHead;
    this.headSeen = headSeen;
    if (checksum !== expected) throw new Error('bare ring returned wrong sums');
    return { jobs: received, perSecond: received / elapsed };
  }

  async close(): Promise<void> {
    Atomics.store(this.ctl, BARE.STOP, 1);
    Atomics.store(this.ctl, BARE.GO, 1);
    Atomics.notify(this.ctl, BARE.GO);
    await this.worker.terminate();
  }
}

/** Runs the bare ring for `seconds` and returns its throughput; checks every sum. */
export async function bareRingThroughput(seconds: number, capacity = 16384): Promise<{ jobs: number; perSecond: number }> {
  const ring = await BareRing.start(capacity);
  try {
    return ring.run(seconds);
  } finally {
    await ring.close();
  }
}
