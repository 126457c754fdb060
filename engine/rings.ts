/**
 * The four ends of a worker's two SPSC rings, each a small type named by its role:
 *
 *   job ring      JobRingWriter (main)      ->  JobRingReader (worker)
 *   result ring   ResultRingWriter (worker) ->  ResultRingReader (main)
 *
 * Indices are free-running int32 counters (they wrap at 2^31 through `| 0`); a record's
 * position is `index & mask`. Every head and tail word has exactly one writer, so no end
 * needs a CAS: publishing is one release store. Each end caches what it last saw of the
 * other side's word, and checks any word it loads from the other side against its own
 * before trusting it: a worker can be killed mid-write, and a ring index outside the ring
 * must never be followed.
 *
 * The record formats (J_*, R_*) are in layout.ts; these types own only the indices.
 */
import { JOB_HEAD_I, JOB_TAIL_I, RES_HEAD_I, RES_TAIL_I, type WorkerBlockView } from './layout.js';

/** True when `to` is `from` or up to `capacity` records after it (int32 wrap-around aware). */
export const inRing = (from: number, to: number, capacity: number): boolean => {
  const span = (to - from) | 0;
  return span >= 0 && span <= capacity;
};

/**
 * The main thread's end of a job ring. `tail` is the next record to write; `published`
 * the tail the worker can see; `headSeen` the worker's head as last loaded.
 * Main thread only.
 */
export class JobRingWriter {
  readonly i32: Int32Array;
  readonly recI32: Int32Array;
  readonly recF64: Float64Array;
  readonly mask: number;
  readonly capacity: number;
  tail: number;
  published: number;
  headSeen: number;

  constructor(block: WorkerBlockView) {
    this.i32 = block.i32;
    this.recI32 = block.jobI32;
    this.recF64 = block.jobF64;
    this.mask = block.mask;
    this.capacity = block.capacity;
    this.tail = Atomics.load(block.i32, JOB_TAIL_I);
    this.published = this.tail;
    this.headSeen = Atomics.load(block.i32, JOB_HEAD_I);
  }

  /** Records written and not yet consumed, as of the last head loaded (never less than the truth). */
  get backlog(): number {
    return (this.tail - this.headSeen) | 0;
  }

  /** True when no record fits until the worker's head is loaded again. */
  get full(): boolean {
    return ((this.tail - this.headSeen) | 0) >= this.capacity;
  }

  /**
   * Loads the worker's head; check it with `validHead` before trusting it.
   * ORDERING: acquire load; the worker stores its head only after it has read the records
   * before it, so those positions may be rewritten.
   */
  loadHead(): number {
    return Atomics.load(this.i32, JOB_HEAD_I);
  }

  /**
   * False when `head` lies outside [headSeen, tail]: the worker wrote what it should not
   * have, and nothing more is trusted from it. (Indices are signed and wrap, so no value
   * can serve as an error sentinel.)
   */
  validHead(head: number): boolean {
    return inRing(this.headSeen, head, this.capacity) && inRing(head, this.tail, this.capacity);
  }

  /** Int32 index of the record at ring position `pos` (records are RECORD_I32 words). */
  recordAt(pos: number, recordI32: number): number {
    return (pos & this.mask) * recordI32;
  }

  /**
   * Makes every written record visible to the worker.
   * ORDERING: release store of the tail after the records' words; the worker's acquire
   * load of the tail sees every record before it.
   */
  publish(): void {
    this.published = this.tail;
    Atomics.store(this.i32, JOB_TAIL_I, this.tail);
  }

  /**
   * Drops every unconsumed record. Only while the reader is dead: nobody else reads this
   * ring then, so the main thread may move its head.
   */
  discardAll(): void {
    this.headSeen = this.tail;
    Atomics.store(this.i32, JOB_HEAD_I, this.tail);
  }
}

/** The worker's end of its job ring. Worker thread (or the inline runner) only. */
export class JobRingReader {
  readonly i32: Int32Array;
  readonly recI32: Int32Array;
  readonly recF64: Float64Array;
  readonly mask: number;
  head: number;

  constructor(block: WorkerBlockView) {
    this.i32 = block.i32;
    this.recI32 = block.jobI32;
    this.recF64 = block.jobF64;
    this.mask = block.mask;
    // A respawned worker picks up exactly where its predecessor's published head is.
    this.head = Atomics.load(block.i32, JOB_HEAD_I);
  }

  /**
   * ORDERING: this acquire load of the tail pairs with the writer's release store after
   * it wrote the records, so every record before the returned tail is fully visible.
   */
  loadTail(): number {
    return Atomics.load(this.i32, JOB_TAIL_I);
  }

  /**
   * Hands consumed records back to the writer.
   * ORDERING: stored after the records were read in full; the writer rewrites no
   * position before it sees this head.
   */
  publishHead(head: number): void {
    this.head = head;
    Atomics.store(this.i32, JOB_HEAD_I, head);
  }
}

/** The worker's end of its result ring. Worker thread (or the inline runner) only. */
export class ResultRingWriter {
  readonly i32: Int32Array;
  readonly recI32: Int32Array;
  readonly recF64: Float64Array;
  readonly mask: number;
  readonly capacity: number;
  tail: number;
  headSeen: number;

  constructor(block: WorkerBlockView) {
    this.i32 = block.i32;
    this.recI32 = block.resI32;
    this.recF64 = block.resF64;
    this.mask = block.mask;
    this.capacity = block.capacity;
    this.tail = Atomics.load(block.i32, RES_TAIL_I);
    this.headSeen = Atomics.load(block.i32, RES_HEAD_I);
  }

  /** True when the ring is full even after loading the main thread's head afresh. */
  full(): boolean {
    if (((this.tail - this.headSeen) | 0) < this.capacity) return false;
    this.headSeen = Atomics.load(this.i32, RES_HEAD_I);
    return ((this.tail - this.headSeen) | 0) >= this.capacity;
  }

  /**
   * Publishes the record at the tail and moves past it.
   * ORDERING: release store after the record's words: main's acquire load of the tail
   * sees it in full. Each result is published as soon as it is written, so a worker that
   * dies in its next job loses only that job, never finished ones.
   */
  push(): void {
    this.tail = (this.tail + 1) | 0;
    Atomics.store(this.i32, RES_TAIL_I, this.tail);
  }
}

/** The main thread's end of a result ring. Main thread only. */
export class ResultRingReader {
  readonly i32: Int32Array;
  readonly recI32: Int32Array;
  readonly recF64: Float64Array;
  readonly mask: number;
  readonly capacity: number;
  head: number;

  constructor(block: WorkerBlockView) {
    this.i32 = block.i32;
    this.recI32 = block.resI32;
    this.recF64 = block.resF64;
    this.mask = block.mask;
    this.capacity = block.capacity;
    this.head = Atomics.load(block.i32, RES_HEAD_I);
  }

  /**
   * Loads the worker's tail; check it with `validTail` before trusting it.
   * ORDERING: acquire load pairs with the worker's release store in ResultRingWriter.push.
   */
  loadTail(): number {
    return Atomics.load(this.i32, RES_TAIL_I);
  }

  /** False when `tail` lies outside the ring: the worker is not trusted. */
  validTail(tail: number): boolean {
    return inRing(this.head, tail, this.capacity);
  }

  /** Records published and not yet taken (as seen now; 0 when the tail is not trusted). */
  get occupancy(): number {
    const tail = this.loadTail();
    return this.validTail(tail) ? (tail - this.head) | 0 : 0;
  }

  /**
   * Hands records up to `head` back to the worker.
   * ORDERING: called only after those records were read in full.
   */
  release(head: number): void {
    this.head = head;
    Atomics.store(this.i32, RES_HEAD_I, head);
  }

  /** Forgets what a dead worker published past the head; nothing it wrote there is read. */
  truncate(): void {
    Atomics.store(this.i32, RES_TAIL_I, this.head);
  }
}
