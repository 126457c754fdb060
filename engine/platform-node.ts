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
  workerSpinMs: 0.05,
  nodeWorkerScope: () => scope,
  threadNice(): ((nice: number) => boolean) | null {
    if (process.platform !== 'linux') return null;
    let tid: number;
    try {
      // On Linux a thread id is a valid target for setpriority and affects that thread
      // alone, so the game loop's thread keeps its own priority.
      tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    } catch {
      return null; // no /proc
    }
    if (!(Number.isInteger(tid) && tid > 0)) return null;
    return (nice: number): boolean => {
      try {
        setPriority(tid, nice);
        return true;
      } catch {
        // Not permitted (raising priority needs a privilege): the current one stays.
        return false;
      }
    };
  },
};
