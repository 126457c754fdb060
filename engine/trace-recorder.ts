/**
 * The main thread's side of the job timeline: writes the main ring (ring 0 of the TRACE
 * region, trace-ring.ts) from hooks in the engine's parts, and samples the per-frame
 * counters. Exists only when EngineOptions.trace is set; every hook site is one
 * `if (trace !== null)` on a field, so an engine without tracing pays one null check.
 *
 * Clock: no hook reads the clock per job. A submit carries the stamp the engine already
 * took for it (JobTable.time, shared by up to 32 submits), a delivery the stamp taken
 * when its worker's result ring was drained; polls, frames and runInline read the clock
 * themselves. Every main event's time is kept at or after the one before it, so the
 * ring is in time order.
 *
 * Nothing here allocates: the hooks only store numbers into the ring.
 *
 * Main thread only.
 */
import type { Books } from './books.js';
import type { JobTable } from './job-table.js';
import { JOB_HEAD_I, RES_TAIL_I, traceRingOffset, type Layout } from './layout.js';
import { Outcome } from './outcome.js';
import {
  TF_END,
  TF_TIME,
  TFLAG_BACKGROUND,
  TFLAG_FAILED,
  TFLAG_IN_POLL,
  TFLAG_LATE,
  TFLAG_OUTCOME_SHIFT,
  TI_A,
  TI_B,
  TI_DEADLINE,
  TI_ID,
  TI_SUBMIT_FRAME,
  TI_TYPE,
  KIND_SHIFT,
  TraceRingWriter,
  TraceType,
  stampMonotone,
} from './trace-ring.js';
import type { WorkerLink } from './worker-link.js';

/** Refusals recorded one by one per frame; past this they are only counted (a burst can refuse millions). */
export const REJECTS_RECORDED_PER_FRAME = 64;

/** Clock slots: the last main event's time, a scratch reading, runInline's start. */
const LAST = 0;
const SCRATCH = 1;
const INLINE_START = 2;

export class TraceRecorder {
  readonly ring: TraceRingWriter;
  private readonly jobs: JobTable;
  private readonly workers: readonly WorkerLink[];
  private readonly books: Books;
  private readonly clock = new Float64Array(3);
  private frame = 0;
  private inPoll = 0;
  private delivered = 0;
  private inlineRun = false;
  private rejectsThisFrame = 0;
  private rejectsUnrecorded = 0;
  private rejectedAtFrame = 0;

  constructor(sab: SharedArrayBuffer, layout: Layout, jobs: JobTable, workers: readonly WorkerLink[], books: Books) {
    this.ring = new TraceRingWriter(sab, traceRingOffset(layout, 0), layout.traceEvents, false);
    this.jobs = jobs;
    this.workers = workers;
    this.books = books;
    stampMonotone(this.clock, LAST, SCRATCH);
  }

  /** Takes a fresh reading for the events that follow (a result ring about to be drained). */
  stamp(): void {
    stampMonotone(this.clock, LAST, SCRATCH);
  }

  /** beginFrame: the frame boundary, with the counters sampled there. */
  beginFrame(frame: number): void {
    this.stamp();
    this.frame = frame;
    let queued = 0;
    let results = 0;
    const ws = this.workers;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      const q = (w.jobs.tail - Atomics.load(w.block.i32, JOB_HEAD_I)) | 0;
      if (q > 0 && q <= w.jobs.capacity) queued += q;
      const rt = Atomics.load(w.block.i32, RES_TAIL_I);
      const waiting = (rt - w.results.head) | 0;
      if (waiting > 0 && waiting <= w.results.capacity) results += waiting;
    }
    const rejected = this.books.rejected;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Frame;
    i32[r + TI_ID] = frame;
    i32[r + TI_A] = rejected - this.rejectedAtFrame;
    i32[r + TI_B] = this.books.inFlight;
    i32[r + TI_SUBMIT_FRAME] = queued;
    i32[r + TI_DEADLINE] = results;
    this.ring.commit();
    this.rejectedAtFrame = rejected;
    this.rejectsThisFrame = 0;
  }

  /** An accepted job (its slot is filled in). */
  submit(slot: number, held: boolean): void {
    const t = this.jobs;
    if (t.time[slot] > this.clock[LAST]) this.clock[LAST] = t.time[slot];
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Submit | (t.lane[slot] === 1 ? TFLAG_BACKGROUND : 0) | (t.kind[slot] << KIND_SHIFT);
    i32[r + TI_ID] = t.idOf(slot, t.gen(slot));
    i32[r + TI_SUBMIT_FRAME] = t.frame[slot];
    i32[r + TI_DEADLINE] = t.deadline[slot];
    i32[r + TI_A] = held ? 1 : 0;
    this.ring.commit();
  }

  /** A refused submit: recorded up to REJECTS_RECORDED_PER_FRAME a frame, counted always. */
  reject(code: number): void {
    if (this.rejectsThisFrame >= REJECTS_RECORDED_PER_FRAME) {
      this.rejectsUnrecorded++;
      return;
    }
    this.rejectsThisFrame++;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Reject;
    i32[r + TI_ID] = code;
    i32[r + TI_A] = this.rejectsUnrecorded;
    this.ring.commit();
    this.rejectsUnrecorded = 0;
  }

  /** A job's outcome, as Books counts it (before its delivery). */
  end(slot: number, outcome: number): void {
    const t = this.jobs;
    if (outcome === Outcome.Cancelled) this.stamp();
    if (this.inPoll > 0) this.delivered++;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    const i32 = this.ring.i32;
    const deadline = t.deadline[slot];
    const flags = (outcome << TFLAG_OUTCOME_SHIFT) | (this.inPoll > 0 ? TFLAG_IN_POLL : 0) | (this.frame > deadline ? TFLAG_LATE : 0);
    i32[r + TI_TYPE] = TraceType.End | flags | (t.kind[slot] << KIND_SHIFT);
    i32[r + TI_ID] = t.idOf(slot, t.gen(slot));
    i32[r + TI_SUBMIT_FRAME] = t.frame[slot];
    i32[r + TI_DEADLINE] = deadline;
    i32[r + TI_A] = this.inlineRun ? -1 : t.worker[slot];
    i32[r + TI_B] = this.frame;
    this.ring.commit();
    this.inlineRun = false;
  }

  /** poll() (or the engine's own poll for run() promises) begins. Polls do not nest. */
  pollBegin(): void {
    this.stamp();
    this.inPoll++;
    this.delivered = 0;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    this.ring.i32[r + TI_TYPE] = TraceType.PollBegin;
    this.ring.commit();
  }

  pollEnd(): void {
    if (this.inPoll === 0) return;
    this.stamp();
    this.inPoll--;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    this.ring.i32[r + TI_TYPE] = TraceType.PollEnd;
    this.ring.i32[r + TI_ID] = this.delivered;
    this.ring.commit();
  }

  /** runInline is about to run the job on this thread. */
  inlineBegin(): void {
    this.stamp();
    this.clock[INLINE_START] = this.clock[LAST];
  }

  /** runInline's handler has returned (or thrown); its outcome is counted next (end, worker -1). */
  inlineEnd(slot: number, gen: number, failed: boolean): void {
    this.stamp();
    const t = this.jobs;
    const r = this.ring.next();
    const f = r >> 1;
    this.ring.f64[f + TF_TIME] = this.clock[INLINE_START];
    this.ring.f64[f + TF_END] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Inline | (failed ? TFLAG_FAILED : 0) | (this.frame > t.deadline[slot] ? TFLAG_LATE : 0) | (t.kind[slot] << KIND_SHIFT);
    i32[r + TI_ID] = t.idOf(slot, gen);
    i32[r + TI_SUBMIT_FRAME] = t.frame[slot];
    i32[r + TI_DEADLINE] = t.deadline[slot];
    this.ring.commit();
    this.inlineRun = true;
  }
}
