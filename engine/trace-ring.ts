/**
 * Trace rings: the job timeline's storage, in the engine's shared buffer (layout.ts,
 * region TRACE). One ring per writing thread, so no ring has two writers: ring 0 is the
 * main thread's (submits, deliveries, polls, frames, rejections, runInline), ring 1 + i
 * belongs to worker block i (one record per job it took off its ring). A ring overwrites
 * its oldest records: a reader always finds the last `capacity - 1` events (the slot
 * after them may be half-written), and writing never waits, allocates or fails.
 *
 *   ring:    +0   CONTROL (64 B)  int32 0: events written, free-running (wraps at 2^32)   writer
 *            +64  RECORDS         capacity x 32 B; event n is at record n & (capacity - 1) writer
 *
 *   record (32 B; float64 view TF_*, int32 view TI_*):
 *     f64 0   time, ms on the shared clock (clock.ts); a slice's start
 *     f64 1   a slice's end, ms (TF_END)   | or int32 2, 3 (TI_A, TI_B), by type
 *     i32 4   type (bits 0-7) | flags (bits 8-15) | kind id (bits 16-31); 0: never written
 *     i32 5   job id | frame | rejection code | results delivered
 *     i32 6   submit frame | counter
 *     i32 7   deadline frame | counter
 *
 * Readers: only the main thread reads, and only to export (TraceReader). It copies a ring
 * and keeps the records the writer cannot have touched while it copied, so a record is
 * never read half-written.
 */
import { stampAt } from './clock.js';
import { H_CURRENT_FRAME, J_BACKGROUND, J_KIND_MASK, RF_FINISH_TIME, RF_RUN_MS, TRACE_CONTROL_BYTES, TRACE_RECORD_BYTES } from './layout.js';
import { Outcome } from './outcome.js';

export const TRACE_RECORD_I32 = TRACE_RECORD_BYTES / 4;
export const TRACE_RECORD_F64 = TRACE_RECORD_BYTES / 8;

export const TF_TIME = 0;
export const TF_END = 1;
export const TI_A = 2;
export const TI_B = 3;
export const TI_TYPE = 4;
export const TI_ID = 5;
export const TI_SUBMIT_FRAME = 6;
export const TI_DEADLINE = 7;

/** Record types (bits 0-7 of TI_TYPE). */
export const enum TraceType {
  /** Worker: a job taken off its ring, run or expired. [TIME, END], ID, SUBMIT_FRAME, DEADLINE. */
  Job = 1,
  /** Main: a job accepted. ID, SUBMIT_FRAME, DEADLINE; A: 1 if it waits in the engine (lane, prerequisites). */
  Submit = 2,
  /** Main: a job's outcome counted (delivered, or cancelled). ID, frames; A: worker (-1 main); B: frame then. Flags: outcome. */
  End = 3,
  /** Main: a refused submit. ID: the Rejection code; A: refusals not recorded since the last one recorded. */
  Reject = 4,
  /** Main: poll() (or the engine's own poll for run()) began. */
  PollBegin = 5,
  /** Main: poll() ended. ID: results delivered. */
  PollEnd = 6,
  /** Main: a job run on the main thread by runInline. [TIME, END], ID, SUBMIT_FRAME, DEADLINE. */
  Inline = 7,
  /** Main: beginFrame. ID: the frame; A: refusals since the last frame; B: in flight; 6: queued records; 7: results waiting. */
  Frame = 8,
}

/** Flags (bits 8-15 of TI_TYPE). End records keep the outcome in bits 8-10 instead. */
export const TFLAG_LATE = 1 << 8;
export const TFLAG_FAILED = 1 << 9;
export const TFLAG_EXPIRED = 1 << 10;
export const TFLAG_BACKGROUND = 1 << 11;
/** End records: delivered inside a poll. */
export const TFLAG_IN_POLL = 1 << 11;
export const TFLAG_OUTCOME_SHIFT = 8;
export const TFLAG_OUTCOME_MASK = 7 << 8;
export const TYPE_MASK = 0xff;
export const KIND_SHIFT = 16;

/**
 * The writing end of one trace ring. One thread only: a worker for its ring, the main
 * thread for ring 0. `shared`: another thread reads the ring (a worker's), so each event
 * is published with a release store; the main ring is read on its own thread and needs none.
 */
export class TraceRingWriter {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly capacity: number;
  private readonly ctl: Int32Array;
  private readonly mask: number;
  private readonly shared: boolean;
  /** The shared header, for the current frame (late jobs); null on the main thread. */
  private readonly header: Int32Array | null;
  private count: number;

  constructor(buffer: SharedArrayBuffer, offset: number, capacity: number, shared: boolean, header: Int32Array | null = null) {
    this.ctl = new Int32Array(buffer, offset, TRACE_CONTROL_BYTES / 4);
    this.f64 = new Float64Array(buffer, offset + TRACE_CONTROL_BYTES, capacity * TRACE_RECORD_F64);
    this.i32 = new Int32Array(buffer, offset + TRACE_CONTROL_BYTES, capacity * TRACE_RECORD_I32);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.shared = shared;
    this.header = header;
    // A respawned worker carries on where its predecessor's published count is.
    this.count = Atomics.load(this.ctl, 0);
  }

  /** The int32 index of the record the next event goes to; fill it, then commit(). */
  next(): number {
    return (this.count & this.mask) * TRACE_RECORD_I32;
  }

  /**
   * Publishes the record next() pointed at.
   * ORDERING: a worker's release store of the count comes after the record's words, and the
   * reader loads the count before copying, so every record below the count is whole.
   */
  commit(): void {
    this.count = (this.count + 1) | 0;
    if (this.shared) Atomics.store(this.ctl, 0, this.count);
    else this.ctl[0] = this.count;
  }

  /**
   * Worker side: the job whose result record was just written at `rf` in `res` (its finish
   * time and run time are read from there, so no double crosses this call and nothing is
   * boxed). `kindWord` is the job record's kind word (kind | lane bit).
   */
  job(res: Float64Array, rf: number, kindWord: number, status: number, jobId: number, submitFrame: number, deadline: number): void {
    const r = this.next();
    const f = r >> 1;
    const end = res[rf + RF_FINISH_TIME];
    // Exact: the run time is end - start of two nearby clock readings (Sterbenz), so this is
    // the start the runner read, and a job's slice starts where the one before it ended.
    this.f64[f + TF_TIME] = end - res[rf + RF_RUN_MS];
    this.f64[f + TF_END] = end;
    let flags = (kindWord & J_BACKGROUND) !== 0 ? TFLAG_BACKGROUND : 0;
    if (status === Outcome.Failed) flags |= TFLAG_FAILED;
    else if (status === Outcome.Expired) flags |= TFLAG_EXPIRED;
    if (this.header !== null && Atomics.load(this.header, H_CURRENT_FRAME) > deadline) flags |= TFLAG_LATE;
    this.i32[r + TI_TYPE] = TraceType.Job | flags | ((kindWord & J_KIND_MASK) << KIND_SHIFT);
    this.i32[r + TI_ID] = jobId;
    this.i32[r + TI_SUBMIT_FRAME] = submitFrame;
    this.i32[r + TI_DEADLINE] = deadline;
    this.commit();
  }
}

/** A ring's surviving records, oldest first, copied out of shared memory. */
export interface TraceRecords {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Records in order: record k is at f64[k * 4], i32[k * 8]. */
  readonly count: number;
}

/**
 * Copies ring `capacity` records at `offset` and returns those written completely before
 * the copy and not overwritten during it, oldest first. Main thread; allocates (export only).
 */
export function readTraceRing(buffer: SharedArrayBuffer, offset: number, capacity: number): TraceRecords {
  const ctl = new Int32Array(buffer, offset, TRACE_CONTROL_BYTES / 4);
  const before = Atomics.load(ctl, 0);
  const raw = new Int32Array(buffer, offset + TRACE_CONTROL_BYTES, capacity * TRACE_RECORD_I32).slice();
  const after = Atomics.load(ctl, 0);
  const out = new Int32Array(capacity * TRACE_RECORD_I32);
  const mask = capacity - 1;
  let n = 0;
  for (let j = 0; j < capacity; j++) {
    const k = (before - capacity + j) | 0;
    // Overwritten (or being written) while we copied: event k + capacity is at or below `after`.
    if (((after - k) | 0) >= capacity) continue;
    const src = (k & mask) * TRACE_RECORD_I32;
    if (raw[src + TI_TYPE] === 0) continue; // never written
    out.set(raw.subarray(src, src + TRACE_RECORD_I32), n * TRACE_RECORD_I32);
    n++;
  }
  return { f64: new Float64Array(out.buffer, 0, n * TRACE_RECORD_F64), i32: new Int32Array(out.buffer, 0, n * TRACE_RECORD_I32), count: n };
}

/** The current time into arr[i], never before arr[i]'s last value: main-thread events stay in order. */
export function stampMonotone(arr: Float64Array, i: number, scratch: number): void {
  stampAt(arr, scratch);
  if (arr[scratch] > arr[i]) arr[i] = arr[scratch];
}
