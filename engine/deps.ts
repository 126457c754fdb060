/**
 * Dependencies between jobs: a job may name up to MAX_AFTER prerequisites (live jobs of
 * the same engine) and waits, in main's hands, until every one has ended. If all ended
 * `done` it becomes ready for the workers; if any failed, expired or was cancelled, it
 * fails `dependency-failed` and never runs. A dependent holds each prerequisite's arena
 * slice until it ends itself, so it can read a result written there without a copy.
 *
 * Edges live in typed arrays, MAX_AFTER per dependent slot, in a doubly linked list per
 * prerequisite: linking, settling and dropping never allocate. The arrays are made the
 * first time a job names a prerequisite.
 *
 * Main thread only.
 */
import type { JobTable } from './job-table.js';
import { MAX_AFTER } from './job-table.js';
import { Outcome } from './outcome.js';

export class Deps {
  private readonly jobs: JobTable;
  /** Per prerequisite slot: its first waiting edge, or -1. */
  private readonly first: Int32Array;
  /** Per edge (dependent slot * MAX_AFTER + k): neighbours in its prerequisite's list, and that prerequisite. */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly pre: Int32Array;
  /** Per dependent slot: prerequisites not yet ended, and whether one ended other than done. */
  private readonly left: Uint8Array;
  private readonly broken: Uint8Array;
  private readonly onReady: (slot: number) => void;
  private readonly onBroken: (slot: number) => void;

  constructor(jobs: JobTable, onReady: (slot: number) => void, onBroken: (slot: number) => void) {
    const n = jobs.capacity;
    this.jobs = jobs;
    this.first = new Int32Array(n).fill(-1);
    this.next = new Int32Array(n * MAX_AFTER);
    this.prev = new Int32Array(n * MAX_AFTER);
    this.pre = new Int32Array(n * MAX_AFTER).fill(-1);
    this.left = new Uint8Array(n);
    this.broken = new Uint8Array(n);
    this.onReady = onReady;
    this.onBroken = onBroken;
  }

  /** Prerequisites the job in `slot` still waits for. */
  waitingOn(slot: number): number {
    return this.left[slot];
  }

  /** Starts a new dependent: no edges yet, not broken. */
  begin(dep: number): void {
    this.left[dep] = 0;
    this.broken[dep] = 0;
  }

  /** Makes `dep` wait for the live job in `pre` (its k-th prerequisite, k < MAX_AFTER). */
  link(dep: number, k: number, pre: number): void {
    const e = dep * MAX_AFTER + k;
    const head = this.first[pre];
    this.pre[e] = pre;
    this.prev[e] = -1;
    this.next[e] = head;
    if (head >= 0) this.prev[head] = e;
    this.first[pre] = e;
    this.left[dep]++;
  }

  /** Marks `dep` as failed already (a prerequisite had ended other than done when it was named). */
  breakNow(dep: number): void {
    this.broken[dep] = 1;
  }

  /**
   * Decides a dependent that has all its edges: ready, failed, or still waiting. Call
   * after the last link.
   */
  decide(dep: number): void {
    if (this.left[dep] > 0) return;
    if (this.broken[dep] === 1) this.onBroken(dep);
    else this.onReady(dep);
  }

  /**
   * The job in `slot` has ended with `outcome`: every dependent waiting on it counts it;
   * a dependent with nothing left to wait for is decided. A job that ends while still
   * waiting itself (cancelled) leaves its prerequisites' lists.
   */
  settle(slot: number, outcome: Outcome): void {
    if (this.left[slot] > 0) this.drop(slot);
    let e = this.first[slot];
    if (e < 0) return;
    this.first[slot] = -1;
    while (e >= 0) {
      const nextE = this.next[e];
      this.pre[e] = -1;
      const dep = (e / MAX_AFTER) | 0;
      if (outcome !== Outcome.Done) this.broken[dep] = 1;
      if (--this.left[dep] === 0) this.decide(dep);
      e = nextE;
    }
  }

  /** Takes every edge of `dep` out of its prerequisites' lists (it ended, or was taken over). */
  drop(dep: number): void {
    const base = dep * MAX_AFTER;
    for (let k = 0; k < MAX_AFTER; k++) {
      const e = base + k;
      const p = this.pre[e];
      if (p < 0) continue;
      const pv = this.prev[e];
      const nx = this.next[e];
      if (pv >= 0) this.next[pv] = nx;
      else this.first[p] = nx;
      if (nx >= 0) this.prev[nx] = pv;
      this.pre[e] = -1;
    }
    this.left[dep] = 0;
  }

  /** True when `slot` holds a live job that has not ended yet (it can still be a prerequisite). */
  isOpen(slot: number): boolean {
    return this.jobs.live[slot] === 1 && this.jobs.outcome[slot] === 0;
  }
}
