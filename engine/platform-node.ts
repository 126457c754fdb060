/**
 * The Node platform (see platform.ts), chosen by the `node` condition of `#platform`.
 * Every Node built-in is imported statically here and nowhere else in the engine, so
 * a Node bundle includes the Node host without a dynamic import.
 */
import { readlinkSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { nodeHost } from './host-node.js';
import type { NodeWorkerScope, Platform } from './platform.js';

const scope: NodeWorkerScope = { isMainThread, workerData, port: parentPort };

export const platform: Platform = {
  runtime: 'node',
  nodeHost,
  cores: () => availableParallelism(),
  nodeWorkerScope: () => scope,
  lowerThreadPriority(nice: number): void {
    if (!(nice > 0) || process.platform !== 'linux') return;
    try {
      // On Linux a thread id is a valid target for setpriority and affects that thread
      // alone, so the game loop's thread keeps its own priority.
      const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
      if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
    } catch {
      // No /proc, or not permitted: the worker runs at normal priority.
    }
  },
};
