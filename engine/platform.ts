/**
 * What the engine needs from the runtime beyond the web platform: the Node worker host,
 * the core count, the Node worker scope and thread priority. Two implementations sit
 * behind the package's internal import `#platform` (package.json "imports"):
 * platform-node.ts under the `node` condition, platform-web.ts everywhere else. A
 * bundler picks one by its own conditions, so a browser bundle never sees
 * node:worker_threads and a Node bundle gets the Node host by a static import.
 */
import type { WorkerHost } from './api.js';

/** The Node side of a worker thread: its init data and its port to the engine. */
export interface NodeWorkerScope {
  readonly isMainThread: boolean;
  readonly workerData: unknown;
  readonly port: NodeWorkerPort | null;
}

export interface NodeWorkerPort {
  postMessage(message: unknown): void;
  once(event: 'message', listener: (message: unknown) => void): unknown;
  close(): void;
}

export interface Platform {
  readonly runtime: 'node' | 'web';
  /** worker_threads behind WorkerHost; null where there is no Node. */
  readonly nodeHost: WorkerHost | null;
  /** Cores this process may use: os.availableParallelism() on Node, navigator.hardwareConcurrency elsewhere (1 when unknown). */
  cores(): number;
  /** The Node worker scope, or null outside Node. */
  nodeWorkerScope(): NodeWorkerScope | null;
  /**
   * A setter for the calling thread's scheduling niceness (true if it took), or null where
   * threads have none to set (Node on Linux has; browsers do not).
   */
  threadNice(): ((nice: number) => boolean) | null;
  /**
   * Puts every thread of the process still in SCHED_OTHER in SCHED_BATCH, except the
   * calling thread and the process's main thread (EngineOptions.batchThreads); true if
   * it took. False where
   * threads have no scheduling policy to set (browsers, Node off Linux).
   */
  batchOtherThreads(): Promise<boolean>;
  /**
   * How long an idle worker keeps polling its ring before it sleeps in Atomics.wait, ms.
   * Spinning pays only while the spinning thread has a core of its own. A Node worker runs
   * at a lower priority (workerNice), so its spin gives way to the game loop; a browser
   * worker cannot be lowered, and when it shares a core with the page (more threads than
   * cores, or a busy machine) each spin holds the page off for its whole length and the
   * page's next submit must wait out the next one: 0 in browsers.
   */
  readonly workerSpinMs: number;
  /**
   * How long each of the frame-pacing lead's timed waits lasts while it dozes through a
   * frame's window (pacing.ts), ms: the most a frame's first job waits for it. Each wait
   * ends in a wake-up, and a waking thread may take the core of a thread of the same
   * priority: a Node worker runs below the game loop (workerNice), so its doze can wake
   * often; a browser worker cannot be lowered, and 0.2 ms dozes there cost the page p99
   * 2.8-4.5 ms in a frame of 1,000 jobs against 0.9-1.4 ms without pacing
   * (`npm run bench:browser`), where 1 ms dozes cost less than no pacing.
   */
  readonly leadDozeMs: number;
}
