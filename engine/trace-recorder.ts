/**
 * The main thread's side of the job timeline: writes the main ring (ring 0 of the TRACE
 * region, trace-ring.ts) from hooks in the engine's parts, and samples the per-frame
 * counters. Exists only when EngineOptions.trace is set; every hook site is one
 * `if (trace !== null)` on a field, so an engine without tracing pays one null check.
 *
 * Nothing is written per job that a worker delivers: the worker's own record says where
 * its result went in the result ring, and a Drain record here says which positions a
 * drain took and when. Per job there is only the check in Books.end, and a record for the
 * outcomes decided on this thread (cancel, a lost worker's jobs, runInline, shutdown).
 *
 * Clock: a poll is timed (a slice on the main track, two clock readings) when it is the
 * first to deliver in its frame or when POLL_SLICE_RESULTS results have been delivered
 * since the last timed one, so a loop that spins on poll() reads the clock at most twice
 * per POLL_SLICE_RESULTS results; beginFrame reads it once, runInline twice.
 * A drain is dated by the newest result it took (or the reading before it, if later), and
 * an outcome decided here by that reading (or its submit, if later): per job, nothing.
 * Every main event's time is kept at or after the one before it, so the ring is in time
 * order. The hooks only store numbers; on Node 20 each clock reading is a heap number, so
 * tracing allocates per delivering poll, per frame and per runInline, never per job.
 *
 * Main thread only.
 */
import type { Books } from './books.js';
import type { JobTable } from './job-table.js';
import { JOB_HEAD_I, RECORD_I32, RES_TAIL_I, RF_FINISH_TIME, traceRingOffset, type Layout } from './layout.js';
import {
  EFLAG_OUTCOME_SHIFT,
  KIND_SHIFT,
  TF_END,
  TF_SUBMIT,
  TF_TIME,
  TFLAG_FAILED,
  TI_DEADLINE,
  TI_ID,
  TI_POS,
  TI_SUBMIT_FRAME,
  TI_TYPE,
  TI_X,
  TraceRingWriter,
  TraceType,
  stampMonotone,
} from './trace-ring.js';
import type { WorkerLink } from './worker-link.js';

/** Refusals recorded one by one per frame; past this they are only counted (a burst can refuse millions). */
export const REJECTS_RECORDED_PER_FRAME = 64;

/** Results delivered by untimed polls before the next delivering poll is timed again. */
export const POLL_SLICE_RESULTS = 32;

/** Most a drain's date may move ahead of the last reading on this thread, ms. */
const MAX_DRAIN_AHEAD_MS = 1000;

/** Clock slots: the last main event's time, the last reading taken, runInline's start. */
const LAST = 0;
/** The slot of TraceRecorder.clock holding the last clock reading taken. */
export const TRACE_READING = 1;
const INLINE_START = 2;

export class TraceRecorder {
  readonly ring: TraceRingWriter;
  private readonly jobs: JobTable;
  private readonly workers: readonly WorkerLink[];
  private readonly books: Books;
  /**
   * Clock slots (LAST, TRACE_READING, INLINE_START). The engine hands the reading taken at
   * beginFrame and at the end of a timed poll to the submits that follow, which would
   * otherwise read the clock again a moment later.
   */
  readonly clock = new Float64Array(3);
  /** Inside poll(); `pollOpen` once it has delivered something (and its begin is recorded). */
  private inPoll = false;
  private pollOpen = false;
  /** Results delivered since the last timed poll, and whether a frame began since. */
  private untimed = 0;
  private frameBegan = true;
  /**
   * Inside a drain of worker `drainWorker`'s result ring, which began at position `drainFrom`.
   * Books.end reads it before calling end(): a drain's outcomes cost no call per job.
   */
  draining = false;
  private drainWorker = 0;
  private drainFrom = 0;
  private rejectsThisFrame = 0;
  private rejectsUnrecorded = 0;
  private rejectedAtFrame = 0;

  constructor(sab: SharedArrayBuffer, layout: Layout, jobs: JobTable, workers: readonly WorkerLink[], books: Books) {
    this.ring = new TraceRingWriter(sab, traceRingOffset(layout, 0), layout.traceEvents);
    this.jobs = jobs;
    this.workers = workers;
    this.books = books;
    stampMonotone(this.clock, LAST, TRACE_READING);
  }

  /** Takes a fresh reading for the events that follow. */
  private stamp(): void {
    stampMonotone(this.clock, LAST, TRACE_READING);
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
      const waiting = (Atomics.load(w.block.i32, RES_TAIL_I) - w.results.head) | 0;
      if (waiting > 0 && waiting <= w.results.capacity) results += waiting;
    }
    const rejected = this.books.rejected;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Frame;
    i32[r + TI_ID] = frame;
    i32[r + TI_SUBMIT_FRAME] = rejected - this.rejectedAtFrame;
    i32[r + TI_DEADLINE] = this.books.inFlight;
    i32[r + TI_POS] = queued;
    i32[r + TI_X] = results;
    this.ring.commit();
    this.rejectedAtFrame = rejected;
    this.rejectsThisFrame = 0;
    this.frameBegan = true;
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
    i32[r + TI_SUBMIT_FRAME] = this.rejectsUnrecorded;
    this.ring.commit();
    this.rejectsUnrecorded = 0;
  }

  /**
   * A job's outcome decided on this thread, recorded with its job's submit time. Books.end
   * calls it for every outcome except a drain's deliveries, which its Drain record already
   * tells (only a callback's cancel happens inside a drain and is recorded here).
   */
  end(slot: number, outcome: number): void {
    if (this.inPoll && !this.pollOpen) this.maybeOpenPoll();
    const t = this.jobs;
    if (t.time[slot] > this.clock[LAST]) this.clock[LAST] = t.time[slot];
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
   * Worker `worker`'s result ring is about to be drained from position `from` (its tail was
   * loaded: there is something to take). The first drain in a poll opens the poll.
   */
  drainBegin(worker: number, from: number): void {
    if (this.inPoll && !this.pollOpen) this.maybeOpenPoll();
    this.draining = true;
    this.drainWorker = worker;
    this.drainFrom = from;
  }

  /**
   * The drain took the results before position `to` (it may stop early: a callback threw,
   * or a limit). Called before those positions are handed back, while the last result's
   * record is still main's to read: its finish time dates the drain.
   */
  drainEnd(to: number): void {
    this.draining = false;
    if (to === this.drainFrom) return;
    this.untimed += (to - this.drainFrom) | 0;
    const res = this.workers[this.drainWorker].results;
    const newest = res.recF64[((((to - 1) & res.mask) * RECORD_I32) >> 1) + RF_FINISH_TIME];
    // A worker's clock reading, so checked: a record a dying or corrupt worker wrote must not
    // move the main track far ahead (a drain is never long after the poll's first reading).
    if (newest > this.clock[LAST] && newest - this.clock[LAST] < MAX_DRAIN_AHEAD_MS) this.clock[LAST] = newest;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Drain;
    i32[r + TI_ID] = this.drainWorker;
    i32[r + TI_SUBMIT_FRAME] = this.drainFrom;
    i32[r + TI_DEADLINE] = to;
    this.ring.commit();
  }

  /**
   * poll() (or the engine's own poll for run() promises) begins. Polls do not nest (a
   * callback cannot poll). A poll is recorded only once it delivers something, and only
   * when it is due (maybeOpenPoll); its drains are recorded either way.
   */
  pollBegin(): void {
    this.inPoll = true;
    this.pollOpen = false;
  }

  /** Times this poll, from its first delivery, if it is due (see POLL_SLICE_RESULTS). */
  private maybeOpenPoll(): void {
    if (!this.frameBegan && this.untimed < POLL_SLICE_RESULTS) return;
    this.frameBegan = false;
    this.untimed = 0;
    this.stamp();
    this.pollOpen = true;
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    this.ring.i32[r + TI_TYPE] = TraceType.PollBegin;
    this.ring.commit();
  }

  /** The poll ended; true when it was timed, so the clock was just read (TRACE_READING). */
  pollEnd(): boolean {
    this.inPoll = false;
    if (!this.pollOpen) return false;
    this.pollOpen = false;
    this.stamp();
    const r = this.ring.next();
    this.ring.f64[(r >> 1) + TF_TIME] = this.clock[LAST];
    this.ring.i32[r + TI_TYPE] = TraceType.PollEnd;
    this.ring.commit();
    return true;
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
    this.ring.f64[f + TF_SUBMIT] = t.time[slot];
    const i32 = this.ring.i32;
    i32[r + TI_TYPE] = TraceType.Inline | (failed ? TFLAG_FAILED : 0) | (t.kind[slot] << KIND_SHIFT);
    i32[r + TI_ID] = t.idOf(slot, gen);
    i32[r + TI_SUBMIT_FRAME] = t.frame[slot];
    i32[r + TI_DEADLINE] = t.deadline[slot];
    this.ring.commit();
  }
}
