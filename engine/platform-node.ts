/**
 * The Node platform (see platform.ts), chosen by the `node` condition of `#platform`.
 * Every Node built-in is imported statically here and nowhere else in the engine, so
 * a Node bundle includes the Node host without a dynamic import.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
  leadDozeMs: 0.2,
  nodeWorkerScope: () => scope,
  threadNice(): ((nice: number) => boolean) | null {
    if (process.platform !== 'linux') return null;
    // On Linux a thread id is a valid target for setpriority and affects that thread
    // alone, so the game loop's thread keeps its own priority.
    const tid = ownTid();
    if (tid <= 0) return null;
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
  async batchOtherThreads(): Promise<boolean> {
    if (process.platform !== 'linux') return false;
    const self = ownTid();
    if (self <= 0) return false;
    let tasks: string[];
    try {
      tasks = readdirSync('/proc/self/task');
    } catch {
      return false;
    }
    // Only threads still in the default policy: one already batched needs nothing, and a
    // policy someone else chose (a real-time audio thread) is not ours to change.
    const tids = tasks.map(Number).filter((t) => t !== self && t !== process.pid && policyOf(t) === SCHED_OTHER);
    if (tids.length === 0) return true;
    // Node has no call for sched_setscheduler; util-linux's chrt makes it, one thread per
    // call, so one shell runs them all.
    return run('/bin/sh', ['-c', 'ok=0; for t; do chrt --batch --pid 0 "$t" || ok=1; done; exit $ok', 'sh', ...tids.map(String)]);
  },
};

const SCHED_OTHER = 0;

/** The calling thread's id, or -1 without /proc. */
function ownTid(): number {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : -1;
  } catch {
    return -1;
  }
}

/** Thread `tid`'s scheduling policy (field 41 of its stat line), or -1. */
function policyOf(tid: number): number {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // The name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]);
    return Number.isInteger(policy) ? policy : -1;
  } catch {
    return -1;
  }
}

/** Runs `file` with `args`; true if it exited 0 (false if missing, refused or slow). */
function run(file: string, args: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000, windowsHide: true }, (err) => resolve(err === null));
  });
}
