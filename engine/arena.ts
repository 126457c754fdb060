/**
 * Main-thread allocator for the shared arena. Jobs end roughly in the order they were
 * submitted (they are frame-bounded), so a ring allocator fits: allocations are cut
 * from the head, and the tail advances past every allocation freed at the oldest end.
 * An allocation that is freed early waits, as a hole, until the ones before it are
 * freed too. All bookkeeping is in typed arrays: alloc and free never allocate.
 *
 * Threads: main thread only. Workers only read and write the bytes of a slice they
 * were handed with a job.
 */
const ALIGN = 8;
/** The guard after each slice in the debug mode: two int32 words no handler writes by chance. */
const GUARD_BYTES = 8;
const GUARD_A = 0x67756172; // 'guar'
const GUARD_B = 0x64776f72; // 'dwor'

export class ArenaAllocator {
  readonly bytes: number;
  private readonly entOffset: Int32Array;
  private readonly entSize: Int32Array;
  private readonly entFreed: Uint8Array;
  /** Holders of the entry: the job that owns it, plus jobs that read it (dependents). 0: the caller's. */
  private readonly entRefs: Int32Array;
  /** offset/8 -> entry index + 1, so a caller-allocated slice is found again by offset. */
  private readonly entryAt: Int32Array;
  private readonly guards: Int32Array | null;
  private readonly cap: number;
  private eHead = 0;
  private eTail = 0;
  private eCount = 0;
  private head = 0;
  private tail = 0;
  private usedBytes = 0;

  /**
   * `guards`: the arena's int32 view, to put guard words after every slice (a debug mode,
   * EngineOptions.arenaGuards); null for none.
   */
  constructor(bytes: number, maxAllocations: number, guards: Int32Array | null = null) {
    this.bytes = bytes;
    this.guards = guards;
    this.cap = maxAllocations + 1;
    this.entOffset = new Int32Array(this.cap);
    this.entSize = new Int32Array(this.cap);
    this.entFreed = new Uint8Array(this.cap);
    this.entRefs = new Int32Array(this.cap);
    this.entryAt = new Int32Array(Math.max(1, bytes / ALIGN));
  }

  get used(): number {
    return this.usedBytes;
  }

  /** Bytes added after each slice for its guard words (0 without guards). */
  get guardBytes(): number {
    return this.guards === null ? 0 : GUARD_BYTES;
  }

  /**
   * Returns an 8-aligned offset, or -1 when the arena cannot hold `size` bytes right now.
   * `held`: the slice belongs to a job from the start (a kind's own payload).
   */
  alloc(size: number, held = false): number {
    const g = this.guards;
    const off = this.cut(g === null ? size : Math.ceil(size / ALIGN) * ALIGN + GUARD_BYTES);
    if (off < 0) return off;
    const e = this.entryAt[off / ALIGN] - 1;
    this.entRefs[e] = held ? 1 : 0;
    if (g !== null) {
      const w = (off + this.entSize[e] - GUARD_BYTES) >> 2;
      g[w] = GUARD_A;
      g[w + 1] = GUARD_B;
    }
    return off;
  }

  /**
   * False when the guard words after the slice at `offset` were overwritten: something
   * wrote past the slice. Always true without guards, or for an unknown offset.
   */
  guardIntact(offset: number): boolean {
    const g = this.guards;
    const e1 = this.entry(offset);
    if (g === null || e1 === 0) return true;
    const w = (offset + this.entSize[e1 - 1] - GUARD_BYTES) >> 2;
    return g[w] === GUARD_A && g[w + 1] === GUARD_B;
  }

  private cut(size: number): number {
    const need = Math.max(ALIGN, Math.ceil(size / ALIGN) * ALIGN);
    if (need > this.bytes || this.eCount >= this.cap - 2) return -1;
    if (this.usedBytes + need > this.bytes) return -1;
    if (this.eCount === 0) {
      this.head = 0;
      this.tail = 0;
    }
    if (this.head >= this.tail) {
      // Used space is [tail, head): free space is [head, bytes) and then [0, tail).
      if (this.bytes - this.head >= need) return this.push(this.head, need, 0);
      if (this.tail >= need) {
        // The end is too short: cover it with an already-freed padding entry and wrap.
        if (this.bytes > this.head) this.push(this.head, this.bytes - this.head, 1);
        this.head = 0;
        return this.push(0, need, 0);
      }
      return -1;
    }
    // Wrapped: used space is [tail, bytes) and [0, head); free space is [head, tail).
    if (this.tail - this.head >= need) return this.push(this.head, need, 0);
    return -1;
  }

  private push(offset: number, size: number, freed: number): number {
    const e = this.eHead;
    this.entOffset[e] = offset;
    this.entSize[e] = size;
    this.entFreed[e] = freed;
    this.eHead = (e + 1) % this.cap;
    this.eCount++;
    this.usedBytes += size;
    this.head = offset + size;
    if (!freed) this.entryAt[offset / ALIGN] = e + 1;
    else this.collect();
    return offset;
  }

  /** The entry index + 1 of the live slice starting at `offset`, or 0. */
  private entry(offset: number): number {
    if (!(offset >= 0) || offset >= this.bytes || offset % ALIGN !== 0) return 0;
    return this.entryAt[offset / ALIGN];
  }

  /**
   * Drops one holder of the slice that starts at `offset`, and frees it when none is left
   * (a slice no job holds is freed at once). Unknown offsets are ignored (returns false).
   */
  free(offset: number): boolean {
    const e1 = this.entry(offset);
    if (e1 === 0) return false;
    if (this.entRefs[e1 - 1] > 1) {
      this.entRefs[e1 - 1]--;
      return true;
    }
    this.entryAt[offset / ALIGN] = 0;
    this.entFreed[e1 - 1] = 1;
    this.entRefs[e1 - 1] = 0;
    this.collect();
    return true;
  }

  /** One more holder of a held slice (a job that reads it); false for one no job holds. */
  retain(offset: number): boolean {
    const e1 = this.entry(offset);
    if (e1 === 0 || this.entRefs[e1 - 1] === 0) return false;
    this.entRefs[e1 - 1]++;
    return true;
  }

  /** Frees a slice no job holds (what a caller may give back); false for a held or unknown one. */
  freeUnheld(offset: number): boolean {
    const e1 = this.entry(offset);
    if (e1 === 0 || this.entRefs[e1 - 1] !== 0) return false;
    return this.free(offset);
  }

  /**
   * Hands a caller's slice to a job: true if `offset` starts a live slice of at least
   * `size` bytes that no job holds; from now on only the job's end frees it.
   */
  hold(offset: number, size: number): boolean {
    const e1 = this.entry(offset);
    if (e1 === 0 || this.entRefs[e1 - 1] !== 0 || this.entSize[e1 - 1] < size) return false;
    this.entRefs[e1 - 1] = 1;
    return true;
  }

  /** Gives a held slice back to the caller (its submit was refused after `hold`). */
  unhold(offset: number): void {
    const e1 = this.entry(offset);
    if (e1 !== 0) this.entRefs[e1 - 1] = 0;
  }

  /** Bytes of the live slice starting at `offset` (rounded up to 8), or 0. */
  sizeOf(offset: number): number {
    const e1 = this.entry(offset);
    return e1 === 0 ? 0 : this.entSize[e1 - 1];
  }

  /** True if a job holds the slice starting at `offset`. */
  isHeld(offset: number): boolean {
    const e1 = this.entry(offset);
    return e1 !== 0 && this.entRefs[e1 - 1] > 0;
  }

  private collect(): void {
    while (this.eCount > 0 && this.entFreed[this.eTail] === 1) {
      this.usedBytes -= this.entSize[this.eTail];
      this.eTail = (this.eTail + 1) % this.cap;
      this.eCount--;
      this.tail = this.eCount === 0 ? this.head : this.entOffset[this.eTail];
    }
    if (this.eCount === 0) {
      this.head = 0;
      this.tail = 0;
    }
  }
}
