/**
 * The job table: one entry per job slot. The slot word lives in shared memory (the slot
 * table, layout.ts), `(generation << STATE_BITS) | state`, so that a worker's claim and
 * the main thread's cancel or take-over are single CAS operations on it; everything else
 * about a job stays on the main thread in typed arrays indexed by slot.
 *
 * Slots are handed out in index order, each new job taking the next free slot after the
 * last one handed out (wrapping around): a slot's generation (and so its job ids) turns
 * over as slowly as with a first-in first-out list, and consecutive jobs sit in
 * consecutive slots whatever order earlier jobs ended in. A free list in release order
 * would, once jobs end out of order (several workers, cancels, jobs of different
 * lengths), scatter each frame's jobs across the table and cost the main thread a cache
 * miss per job in every per-slot array: two to four times its cost per job.
 *
 * A job id is the slot in the low bits and the low bits of its generation above
 * (layout.ts jobIdOf), salted per engine so that an id from another engine in the same
 * process is very unlikely to name one of ours.
 *
 * Main thread only.
 */
import type { ResultView } from './api.js';
import type { ArenaAllocator } from './arena.js';
import { MAX_PARAMS } from './kind.js';
import {
  GEN_MASK,
  RANGE_WORDS,
  RG_COUNT,
  RG_ERROR,
  RG_GRAIN,
  RG_NEXT,
  RG_SETTLED,
  STATE_BITS,
  STATE_MASK,
  S_CANCELLED,
  S_FREE,
  S_QUEUED,
  S_RUNNING,
  S_TAKEN,
  S_WAITING,
  jobIdOf,
  rangeTag,
} from './layout.js';

/** Settles a run() promise with the job's delivered view (null: cancelled, no delivery). */
export type Settler = (view: ResultView | null) => void;

/** Most prerequisites one job may name (SubmitOptions.after). */
export const MAX_AFTER = 8;

let enginesMade = 0;

/** A fresh salt for the next engine's job ids; golden-ratio steps spread consecutive ones. */
export const nextIdSalt = (): number => (Math.imul(++enginesMade, 0x9e3779b1) >>> 7) & GEN_MASK;

export class JobTable {
  /** Shared slot words: (generation << STATE_BITS) | state. */
  readonly words: Int32Array;
  readonly capacity: number;
  readonly slotBits: number;
  /** 1 while the slot holds an accepted job main has not finished with. */
  readonly live: Uint8Array;
  /** 1 once the job's outcome was delivered by runInline: a worker's result is dropped. */
  readonly taken: Uint8Array;
  /** 1 once a main-side failure is queued for the slot, so it is never queued (or delivered) twice. */
  readonly lost: Uint8Array;
  readonly worker: Int16Array;
  readonly kind: Int16Array;
  readonly tag: Int32Array;
  readonly frame: Int32Array;
  readonly deadline: Int32Array;
  /** Ring position of the job's record in its worker's job ring. */
  readonly ringPos: Int32Array;
  readonly arenaOffset: Int32Array;
  readonly arenaBytes: Int32Array;
  /** Submit time, ms on the shared clock. */
  readonly time: Float64Array;
  /** MAX_PARAMS per slot. */
  readonly params: Float64Array;
  /** 1 for a background-lane job. */
  readonly lane: Uint8Array;
  /** 1 for a job sent to its worker while its kind was not yet measured (KindTable.measured, WorkerLink.unmeasured); never for a parallel-for job. */
  readonly unmeasured: Uint8Array;
  /** 1 for a parallel-for job (its helper records may sit in several rings). */
  readonly range: Uint8Array;
  /** For a bundle (EngineCore.submitBundle), how many jobs it holds; 0 for any other job. */
  readonly bundle: Int32Array;
  /** A parallel-for job's helper workers, one bit per worker index (those below 31). */
  readonly rangeMask: Int32Array;
  /** The shared range table (layout.ts RG_*), RANGE_WORDS per slot. */
  readonly ranges: Int32Array;
  /** The job's outcome once it is counted (before its delivery), 0 until then. */
  readonly outcome: Uint8Array;
  /**
   * Per slot, the promise of a job submitted with engine.run(): its outcome goes there,
   * never to a poll callback. Made on the first run().
   */
  settlers: (Settler | null)[] | null = null;
  /** Prerequisites' arena slices a job reads, held until it ends: MAX_AFTER per slot, made on first use. */
  private retained: Int32Array | null = null;
  private retainedCount: Uint8Array | null = null;
  /** One bit per slot, set while the slot is free. */
  private readonly freeBits: Int32Array;
  /** The slot after the last one handed out: where the search for a free one starts. */
  private cursor = 0;
  private freeCount: number;
  /** Mixed into the generation bits of this engine's job ids. */
  private readonly salt: number;
  private readonly arena: ArenaAllocator;

  constructor(words: Int32Array, ranges: Int32Array, arena: ArenaAllocator, salt: number) {
    const n = words.length;
    this.words = words;
    this.arena = arena;
    this.capacity = n;
    this.slotBits = Math.log2(n);
    this.live = new Uint8Array(n);
    this.taken = new Uint8Array(n);
    this.lost = new Uint8Array(n);
    this.worker = new Int16Array(n).fill(-1);
    this.kind = new Int16Array(n);
    this.tag = new Int32Array(n);
    this.frame = new Int32Array(n);
    this.deadline = new Int32Array(n);
    this.ringPos = new Int32Array(n);
    this.arenaOffset = new Int32Array(n).fill(-1);
    this.arenaBytes = new Int32Array(n);
    this.time = new Float64Array(n);
    this.params = new Float64Array(n * MAX_PARAMS);
    this.lane = new Uint8Array(n);
    this.unmeasured = new Uint8Array(n);
    this.range = new Uint8Array(n);
    this.bundle = new Int32Array(n);
    this.rangeMask = new Int32Array(n);
    this.ranges = ranges;
    this.outcome = new Uint8Array(n);
    this.freeBits = new Int32Array(Math.max(1, n >>> 5)).fill(n >= 32 ? -1 : (1 << n) - 1);
    this.freeCount = n;
    this.salt = salt;
  }

  /** Free slots left. */
  get free(): number {
    return this.freeCount;
  }

  /**
   * Takes the next free slot from the cursor for a new job and marks it QUEUED with the
   * next generation; returns the slot. The caller has checked `free > 0`.
   * ORDERING: a plain store of the word suffices: the release store that publishes the
   * job's record orders it, and while the slot is free no record can match it, so no CAS
   * races with this write.
   */
  open(): number {
    const bitsOf = this.freeBits;
    const lastWord = bitsOf.length - 1;
    let w = this.cursor >>> 5;
    let bits = bitsOf[w] & (-1 << (this.cursor & 31));
    // A free slot exists (the caller checked), so this ends: at worst back in the first
    // word, whole this time.
    while (bits === 0) {
      w = w === lastWord ? 0 : w + 1;
      bits = bitsOf[w];
    }
    const bit = 31 - Math.clz32(bits & -bits);
    bitsOf[w] &= ~(1 << bit);
    const slot = (w << 5) | bit;
    this.cursor = (slot + 1) & (this.capacity - 1);
    this.freeCount--;
    const gen = (((this.words[slot] >>> STATE_BITS) + 1) & GEN_MASK) >>> 0;
    this.words[slot] = (gen << STATE_BITS) | S_QUEUED;
    // Every other per-slot field is back at its fresh value since release().
    this.live[slot] = 1;
    return slot;
  }

  /** The slot's current generation. */
  gen(slot: number): number {
    return this.words[slot] >>> STATE_BITS;
  }

  /** The job id of the job in `slot` at generation `gen`. */
  idOf(slot: number, gen: number): number {
    return jobIdOf(slot, gen, this.slotBits, this.salt);
  }

  /** The slot of a live job id of this engine, or -1 (unknown, ended, foreign, or not an id at all). */
  slotOf(jobId: unknown): number {
    if (typeof jobId !== 'number' || !(jobId >= 0) || (jobId | 0) !== jobId) return -1;
    const slot = jobId & (this.capacity - 1);
    if (this.live[slot] === 0 || this.idOf(slot, this.gen(slot)) !== jobId) return -1;
    return slot;
  }

  state(slot: number): number {
    return this.words[slot] & STATE_MASK;
  }

  /** True when the slot's word says `gen` is running (a worker claimed that generation). */
  isRunning(slot: number, gen: number): boolean {
    return this.words[slot] === ((gen << STATE_BITS) | S_RUNNING);
  }

  /** True when the slot's word says `gen` is queued. */
  isQueued(slot: number, gen: number): boolean {
    return this.words[slot] === ((gen << STATE_BITS) | S_QUEUED);
  }

  /**
   * Moves a queued or waiting job to `to` (S_CANCELLED or S_TAKEN) unless a worker claimed
   * it first.
   * ORDERING: the same word the worker claims with CAS(QUEUED -> RUNNING): one side wins.
   */
  tryUnqueue(slot: number, to: typeof S_CANCELLED | typeof S_TAKEN): boolean {
    const word = this.words[slot];
    const st = word & STATE_MASK;
    if (st !== S_QUEUED && st !== S_WAITING) return false;
    return Atomics.compareExchange(this.words, slot, word, (word & ~STATE_MASK) | to) === word;
  }

  /** True when the slot's word says `gen` is waiting in main's hands (prerequisites, or its lane). */
  isWaiting(slot: number, gen: number): boolean {
    return this.words[slot] === ((gen << STATE_BITS) | S_WAITING);
  }

  /** Marks a just-opened job as waiting in main's hands instead of queued for a worker. */
  hold(slot: number): void {
    this.words[slot] = (this.gen(slot) << STATE_BITS) | S_WAITING;
  }

  /**
   * Hands a waiting job to the workers: QUEUED from now on.
   * ORDERING: a plain store, published by the release store of its record's ring tail.
   */
  queue(slot: number): void {
    this.words[slot] = (this.gen(slot) << STATE_BITS) | S_QUEUED;
  }

  /**
   * Makes the just-opened job in `slot` a parallel-for job over [0, count) in chunks of
   * `grain`: its range words, written before its records are published. The range starts
   * closed (nothing left to claim): the helper that claims the job opens it once it has
   * found the job still in time, so no helper runs a chunk of a job that expires.
   */
  openRange(slot: number, count: number, grain: number): void {
    const rg = slot * RANGE_WORDS;
    const tag = rangeTag(this.gen(slot));
    this.range[slot] = 1;
    this.ranges[rg + RG_COUNT] = count;
    this.ranges[rg + RG_GRAIN] = grain;
    this.ranges[rg + RG_NEXT] = tag | count;
    this.ranges[rg + RG_SETTLED] = tag;
    this.ranges[rg + RG_ERROR] = 0;
  }

  /** Stops a parallel-for job's helpers from claiming more of its range (its worker died). */
  closeRange(slot: number): void {
    Atomics.store(this.ranges, slot * RANGE_WORDS + RG_NEXT, rangeTag(this.gen(slot)) | this.ranges[slot * RANGE_WORDS + RG_COUNT]);
  }

  /** Keeps a prerequisite's arena slice alive until the job in `slot` ends. */
  retain(slot: number, off: number): void {
    if (!this.arena.retain(off)) return;
    this.retained ??= new Int32Array(this.capacity * MAX_AFTER);
    this.retainedCount ??= new Uint8Array(this.capacity);
    this.retained[slot * MAX_AFTER + this.retainedCount[slot]++] = off;
  }

  /** Hands a slot main has finished with back to the free list, and frees its arena slice. */
  release(slot: number): void {
    const off = this.arenaOffset[slot];
    if (off >= 0) this.arena.free(off);
    if (this.settlers !== null) this.settlers[slot] = null;
    const rc = this.retainedCount;
    if (rc !== null && rc[slot] > 0) {
      for (let k = 0; k < rc[slot]; k++) this.arena.free(this.retained![slot * MAX_AFTER + k]);
      rc[slot] = 0;
    }
    // The fields open() expects fresh, reset here once rather than there.
    this.arenaOffset[slot] = -1;
    this.live[slot] = 0;
    this.taken[slot] = 0;
    this.lost[slot] = 0;
    this.outcome[slot] = 0;
    this.lane[slot] = 0;
    this.unmeasured[slot] = 0;
    this.range[slot] = 0;
    this.bundle[slot] = 0;
    this.rangeMask[slot] = 0;
    this.worker[slot] = -1;
    const word = this.words[slot];
    // ORDERING: FREE keeps the generation; a stale record can no longer match QUEUED or
    // RUNNING. A plain store: no other thread writes a word in the states a job ends in
    // (a worker only ever CASes QUEUED -> RUNNING, which fails on any of them), and the
    // slot's next QUEUED word is ordered by the release store that publishes its record.
    this.words[slot] = (word & ~STATE_MASK) | S_FREE;
    this.freeBits[slot >>> 5] |= 1 << (slot & 31);
    this.freeCount++;
  }
}
