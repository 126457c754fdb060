/**
 * The web platform (see platform.ts): browsers, and any runtime a bundler targets
 * without the `node` condition. No Node built-in is reachable from here.
 */
import type { Platform } from './platform.js';

export const platform: Platform = {
  runtime: 'web',
  nodeHost: null,
  cores(): number {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 1;
  },
  nodeWorkerScope: () => null,
  workerSpinMs: 0,
  leadDozeMs: 1,
  threadNice: () => null,
  batchOtherThreads: () => Promise.resolve(false),
};
