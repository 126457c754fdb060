/**
 * Trace rings: the job timeline's storage, in the engine's shared buffer (layout.ts,
 * region TRACE). One ring per writing thread, so no ring has two writers: ring 0 is the
 * main thread's (frames, polls and the result rings each drained, refusals, runInline,
 * outcomes decided on the main thread), ring 1 + i belongs to worker block i (one record
 * per job it took off its job ring). A ring overwrites its oldest records: a reader finds
 * the last `capacity - TRACE_PUBLISH_EVERY` events published, and writing never waits,
 * allocates or fails.
 *
 * A job's whole story is in its worker's record (submit time, start, end, frames, and the
 * result-ring position its result went to); the main thread records only which positions
 * each drain of a result ring took, so tracing adds nothing per job on the main thread.
 *
 *   ring:    +0   CONTROL (64 B)  int32 0: events published, free-running (wraps at 2^32)  writer
 *            +64  RECORDS         capacity x 48 B; event n is at record n & (capacity - 1) writer
 *
 *   record (48 B; float64 view TF_*, int32 view TI_*):
 *     f64 0   time, ms on the shared clock (clock.ts); a slice's start           TF_TIME
 *     f64 1   a slice's end, ms                                                   TF_END
 *     f64 2   a job's submit time, ms                                             TF_SUBMIT
 *     i32 6   type (bits 0-7) | flags (bits 8-15) | kind id (bits 16-31); 0: never written
 *     i32 7   job id | frame | rejection code | worker
 *     i32 8   submit frame | first result position | counter
 *     i32 9   deadline frame | end result position | counter
 *     i32 10  result position (Job) | counter
 *     i32 11  counter
 *
 * Reader: only the main thread reads, and only to export (readTraceRing). It copies a ring
 * and keeps the records the writer cannot have touched while it copied, so a record is
 * never read half-written.
 */
import { stampAt } from './clock.js';
import {
  J_BACKGROUND,
  J_DEADLINE_FRAME,
  J_KIND,
  J_KIND_MASK,
  J_SUBMIT_FRAME,
  JF_SUBMIT_TIME,
  RECORD_I32,
  RF_FINISH_TIME,
  RF_RUN_MS,
  R_STATUS,
  TRACE_CONTROL_BYTES,
  TRACE_RECORD_BYTES,
  type WorkerBlockView,
} from './layout.js';
import { Outcome } from './outcome.js';

export const TRACE_RECORD_I32 = TRACE_RECORD_BYTES / 4;
export const TRACE_RECORD_F64 = TRACE_RECORD_BYTES / 8;

export const TF_TIME = 0;
export const TF_END = 1;
export const TF_SUBMIT = 2;
export const TI_TYPE = 6;
export const TI_ID = 7;
export const TI_SUBMIT_FRAME = 8;
export const TI_DEADLINE = 9;
export const TI_POS = 10;
export const TI_X = 11;

/** Record types (bits 0-7 of TI_TYPE). */
export const enum TraceType {
  /**
   * Worker: a job taken off its ring, run or expired. [TIME, END], SUBMIT, ID, SUBMIT_FRAME,
   * DEADLINE, POS: the result-ring position its result went to. Flags TFLAG_*.
   */
  Job = 1,
  /**
   * Main: a result ring drained. TIME: the reading taken before delivering; ID: the worker;
   * SUBMIT_FRAME, DEADLINE: result positions [from, to) taken.
   */
  Drain = 2,
  /**
   * Main: an outcome decided on the main thread (cancelled, lost with its worker,
   * runInline's, shutdown's). TIME: then; SUBMIT; ID, SUBMIT_FRAME, DEADLINE; the Outcome in
   * the flag bits (EFLAG_OUTCOME_*).
   */
  End = 3,
  /** Main: a refused submit. ID: the Rejection code; SUBMIT_FRAME: refusals not recorded since the last one recorded. */
  Reject = 4,
  /** Main: a poll began to deliver. */
  PollBegin = 5,
  /** Main: that poll ended. */
  PollEnd = 6,
  /** Main: a job run on the main thread by runInline. [TIME, END], SUBMIT, ID, SUBMIT_FRAME, DEADLINE; TFLAG_FAILED. */
  Inline = 7,
  /** Main: beginFrame. ID: the frame; SUBMIT_FRAME: refusals since the last frame; DEADLINE: in flight; POS: queued job records; X: results waiting. */
  Frame = 8,
}

/** Job and Inline flags (bits 8-15 of TI_TYPE). */
export const TFLAG_FAILED = 1 << 9;
export const TFLAG_EXPIRED = 1 << 10;
export const TFLAG_BACKGROUND = 1 << 11;
/** A worker's share of a parallel-for job: the chunks it ran, from its first claim to its last. */
export const TFLAG_RANGE = 1 << 12;
/** A share that did not publish the job's result (POS is meaningless). */
export const TFLAG_NO_RESULT = 1 << 13;
/** End records keep the Outcome in bits 8-10. */
export const EFLAG_OUTCOME_SHIFT = 8;
export const EFLAG_OUTCOME_MASK = 7 << 8;
export const TYPE_MASK = 0xff;
export const KIND_SHIFT = 16;

/**
 * Most events a writer has written past the count it last published. The main thread
 * stores its count once per TRACE_PUBLISH_EVERY events (a release store costs more than the
 * record itself) and whenever it publishes its other work (publishCount); a worker stores
 * it with each job record, before the job's result. A reader must treat that many slots
 * after the published count as possibly being rewritten.
 */
export const TRACE_PUBLISH_EVERY = 16;

/**
 * The writing end of one trace ring. One thread only: a worker for its ring (the inline
 * runner's is written on the main thread), the main thread for ring 0.
 */
export class TraceRingWriter {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly capacity: number;
  private readonly ctl: Int32Array;
  private readonly mask: number;
  private count: number;
  /** A worker ring's block: job() reads the job and result records there. */
  private readonly block: WorkerBlockView | null;
  /** Parallel-for: the start of this worker's share, and its result tail then. */
  private readonly rangeClock = new Float64Array(2);
  private rangeTail = 0;

  constructor(buffer: SharedArrayBuffer, offset: number, capacity: number, block: WorkerBlockView | null = null) {
    this.ctl = new Int32Array(buffer, offset, TRACE_CONTROL_BYTES / 4);
    this.f64 = new Float64Array(buffer, offset + TRACE_CONTROL_BYTES, capacity * TRACE_RECORD_F64);
    this.i32 = new Int32Array(buffer, offset + TRACE_CONTROL_BYTES, capacity * TRACE_RECORD_I32);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.block = block;
    // A respawned worker carries on from its predecessor's published count (what it wrote
    // past that was never visible, and is written over).
    this.count = Atomics.load(this.ctl, 0);
  }

  /** The int32 index of the record the next event goes to; fill it, then commit(). */
  next(): number {
    return (this.count & this.mask) * TRACE_RECORD_I32;
  }

  /** Counts the record next() pointed at; every TRACE_PUBLISH_EVERY records, publishes. */
  commit(): void {
    const c = (this.count + 1) | 0;
    this.count = c;
    if ((c & (TRACE_PUBLISH_EVERY - 1)) === 0) Atomics.store(this.ctl, 0, c);
  }

  /**
   * Counts the record and publishes the count at once: a worker's job record must be
   * visible before the job's result is (the caller pushes the result after this), so an
   * export made after a delivery holds the job's slice.
   * ORDERING: release store of the count after the record's words, before the result's.
   */
  commitAndPublish(): void {
    const c = (this.count + 1) | 0;
    this.count = c;
    Atomics.store(this.ctl, 0, c);
  }

  /**
   * Makes every committed record visible to the reader.
   * ORDERING: release store of the count after the records' words; the reader loads the
   * count before copying, so every record below it is whole.
   */
  publishCount(): void {
    Atomics.store(this.ctl, 0, this.count);
  }

  /**
   * Worker side: the job whose record is at `jr` (int32 index) in the block's job ring and
   * whose result was just written at `rr` in its result ring, at result position `pos`.
   * Times are copied from those records (the run time is end - start of two clock readings
   * close together, so end - run gives back the start exactly), so no double crosses this
   * call. Whether the job ended late is worked out by the export, from the frame
   * boundaries on the main ring.
   */
  job(jr: number, rr: number, status: number, jobId: number, pos: number): void {
    const b = this.block!;
    const r = (this.count & this.mask) * TRACE_RECORD_I32;
    const f = r >> 1;
    const rf = rr >> 1;
    const end = b.resF64[rf + RF_FINISH_TIME];
    const f64 = this.f64;
    f64[f + TF_TIME] = end - b.resF64[rf + RF_RUN_MS];
    f64[f + TF_END] = end;
    f64[f + TF_SUBMIT] = b.jobF64[(jr >> 1) + JF_SUBMIT_TIME];
    const kindWord = b.jobI32[jr + J_KIND];
    const flags = (kindWord & J_BACKGROUND) !== 0 ? TFLAG_BACKGROUND : 0;
    const i32 = this.i32;
    i32[r + TI_TYPE] = TraceType.Job | flags | (status === Outcome.Done ? 0 : status === Outcome.Failed ? TFLAG_FAILED : TFLAG_EXPIRED) | ((kindWord & J_KIND_MASK) << KIND_SHIFT);
    i32[r + TI_ID] = jobId;
    i32[r + TI_SUBMIT_FRAME] = b.jobI32[jr + J_SUBMIT_FRAME];
    i32[r + TI_DEADLINE] = b.jobI32[jr + J_DEADLINE_FRAME];
    i32[r + TI_POS] = pos;
    this.commitAndPublish();
  }

  /** Worker side: about to run chunks of the parallel-for job at `jr`; `resultTail`: the result ring's tail. */
  rangeBegin(resultTail: number): void {
    stampAt(this.rangeClock, 0);
    this.rangeTail = resultTail;
  }

  /**
   * Worker side: this worker has left the parallel-for job at `jr`: its share as one record,
   * with the job's outcome and result position if this worker published it (its result
   * tail moved), TFLAG_NO_RESULT otherwise.
   */
  rangeEnd(jr: number, jobId: number, resultTail: number): void {
    const b = this.block!;
    stampAt(this.rangeClock, 1);
    const r = (this.count & this.mask) * TRACE_RECORD_I32;
    const f = r >> 1;
    const f64 = this.f64;
    f64[f + TF_TIME] = this.rangeClock[0];
    f64[f + TF_END] = this.rangeClock[1];
    f64[f + TF_SUBMIT] = b.jobF64[(jr >> 1) + JF_SUBMIT_TIME];
    const kindWord = b.jobI32[jr + J_KIND];
    let flags = TFLAG_RANGE | ((kindWord & J_BACKGROUND) !== 0 ? TFLAG_BACKGROUND : 0);
    const pos = (resultTail - 1) | 0;
    if (resultTail === this.rangeTail) flags |= TFLAG_NO_RESULT;
    else {
      const status = b.resI32[(pos & b.mask) * RECORD_I32 + R_STATUS];
      flags |= status === Outcome.Done ? 0 : status === Outcome.Failed ? TFLAG_FAILED : TFLAG_EXPIRED;
    }
    const i32 = this.i32;
    i32[r + TI_TYPE] = TraceType.Job | flags | ((kindWord & J_KIND_MASK) << KIND_SHIFT);
    i32[r + TI_ID] = jobId;
    i32[r + TI_SUBMIT_FRAME] = b.jobI32[jr + J_SUBMIT_FRAME];
    i32[r + TI_DEADLINE] = b.jobI32[jr + J_DEADLINE_FRAME];
    i32[r + TI_POS] = pos;
    this.commitAndPublish();
  }
}

/** A ring's surviving records, oldest first, copied out of shared memory. */
export interface TraceRecords {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Records in order: record k is at f64[k * TRACE_RECORD_F64], i32[k * TRACE_RECORD_I32]. */
  readonly count: number;
}

/**
 * Copies ring `capacity` records at `offset` and returns those published before the copy
 * and not overwritten during it, oldest first. Main thread; allocates (export only).
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
    // Overwritten (or being written) while we copied: event k + capacity is at or below
    // `after` plus what the writer may have written without publishing yet.
    if (((after - k) | 0) >= capacity - TRACE_PUBLISH_EVERY) continue;
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
