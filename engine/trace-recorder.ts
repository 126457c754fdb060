/**
 * The main thread's side of the job timeline: writes the main ring (ring 0 of the TRACE
 * region, trace-ring.ts) from hooks in the engine's parts, and samples the per-frame
 * counters. Exists only when EngineOptions.trace is set; every hook site is one
 * `if (trace !== null)` on a field, so an engine without tracing pays one null check.
 *
 * One record per job: its outcome (end), written when Books counts it, carrying both the
 * stamp the engine took at its submit (JobTable.time, shared by up to 32 submits) and the
 * stamp taken when its worker's result ring was drained. No hook reads the clock per
 * job: a poll that delivers reads it once per result ring it drains and once at its end
 * (nothing for a poll that delivers nothing), beginFrame once, runInline twice. Every
 * main event's time is kept at or after the one before it, so the ring is in time order.
 *
 * The hooks store numbers into the ring and allocate nothing themselves; on Node 20 each
 * clock reading is a 16-byte heap number, so tracing allocates per delivering poll and
 * per frame, never per job.
 *
 * Main thread only.
 */
import type { Books } from './books.js';
import type { JobTable } from './job-table.js';
import { JOB_HEAD_I, RES_TAIL_I, traceRingOffset, type Layout } from './layout.js';
import { Outcome } from './outcome.js';
import {
  EFLAG_OUTCOME_SHIFT,
  TF_END,
  TF_SUBMIT,
  TF_TIME,
  TFLAG_FAILED,
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
  /** Inside poll(); `pollOpen` once it has delivered something (and its begin is recorded). */
  private inPoll = false;
  private pollOpen = false;
  private rejectsThisFrame = 0;
  private rejectsUnrecorded = 0;
  private rejectedAtFrame = 0;

  constructor(sab: SharedArrayBuffer, layout: Layout, jobs: JobTable, workers: readonly WorkerLink[], books: Books) {
    this.ring = new TraceRingWriter(sab, traceRingOffset(layout, 0), layout.traceEvents);
    this.jobs = jobs;
    this.workers = workers;
    this.books = books;
    stampMonotone(this.clock, LAST, SCRATCH);
  }

  /** Takes a fresh reading for the events that follow. */
  stamp(): void {
    stampMonotone(this.clock, LAST, SCRATCH);
  }

  /**
   * A result ring is about to be drained: a fresh reading for its deliveries, after the
   * ring's tail was loaded, so no delivery is stamped before its result was published.
   * The first one in a poll opens the poll's slice.
   */
  drainStamp(): void {
    this.stamp();
    if (this.inPoll && !this.pollOpen) this.openPoll();
  }

  /** Makes every event written so far visible to a reader (the export, on this thread). */
  publish(): void {
    this.ring.publishCount();
  }

  /** beginFrame: the frame boundary, with the counters sampled there. */
  beginFrame(frame: number): void {
    this.stamp();
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

  /**
   * A job's outcome, as Books counts it (before its delivery). The one main-thread record
   * per job: it carries the job's submit time too, so the export draws the submit from it.
   */
  end(slot: number, outcome: number): void {
    const t = this.jobs;
    if (outcome === Outcome.Cancelled) this.stamp();
    else if (this.inPoll && !this.pollOpen) {
      // Delivered inside a poll without a drain (a failure decided on this thread).
      this.stamp();
      this.openPoll();
    }
    const ring = this.ring;
    const r = ring.next();
    const f = r >> 1;
    ring.f64[f + TF_TIME] = this.clock[LAST];
    ring.f64[f + TF_SUBMIT] = t.time[slot];
    const i32 = ring.i32;
    i32[r + TI_TYPE] = TraceType.End | (outcome << EFLAG_OUTCOME_SHIFT) | (t.kind[slot] << KIND_SHIFT);
    i32[r + TI_ID] = t.idOf(slot, t.gen(slot));
    i32[r + TI_SUBMIT_FRAME] = t.frame[slot];
    i32[r + TI_DEADLINE] = t.deadline[slot];
    ring.commit();
  }

  /**
   * poll() (or the engine's own poll for run() promises) begins. Polls do not nest (a
   * callback cannot poll). A poll is recorded only once it delivers something: a loop that
   * spins on poll() while it waits reads no clock and writes no event.
   */
  pollBegin(): void {
    this.inPoll = true;
    this.pollOpen = false;
  }

  private openPoll(): void {
    this.pollOpen = true;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    this.ring.i32[r + TI_TYPE] = TraceType.PollBegin;
    this.ring.commit();
  }

  pollEnd(): void {
    this.inPoll = false;
    if (!this.pollOpen) return;
    this.pollOpen = false;
    this.stamp();
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    this.ring.i32[r + TI_TYPE] = TraceType.PollEnd;
    this.ring.commit();
  }

  /** runInline is about to run the job on this thread. */
  inlineBegin(): void {
    this.stamp();
    this.clock[INLINE_START] = this.clock[LAST];
  }

  /** runInline's handler has returned (or thrown); its outcome is counted next (end). */
  inlineEnd(slot: number, gen: number, failed: boolean): void {
    this.stamp();
    const t = this.jobs;
    const r = this.ring.next();
    const f = r >> 1;
    this.ring.f64[f + TF_TIME] = this.clock[INLINE_START];
    this.ring.f64[f + TF_END] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Inline | (failed ? TFLAG_FAILED : 0) | (t.kind[slot] << KIND_SHIFT);
    i32[r + TI_ID] = t.idOf(slot, gen);
    i32[r + TI_SUBMIT_FRAME] = t.frame[slot];
    i32[r + TI_DEADLINE] = t.deadline[slot];
    this.ring.commit();
  }
}
