/**
 * Arena payloads at submit: the slice a kind asks for (`arenaBytes(params)`), or the one
 * the caller reserved with arenaAlloc and passes in SubmitOptions. Either way the job
 * holds the slice from submit until its outcome; a slice has one owner at a time.
 *
 * Main thread only.
 */
import type { ArenaAllocator } from './arena.js';
import type { KindTable } from './kind-table.js';
import { Rejection } from './outcome.js';

const FROM_KIND = 0;
const FROM_CALLER = 1;
const SHARED = 2;

export class Payloads {
  /** Bytes of the slice the last call chose (a field: no pair is allocated per submit). */
  bytes = 0;
  /**
   * True while a kind's arenaBytes runs. It is the game's code, in the middle of a submit
   * whose checked parameters and choices sit in shared scratch fields, so a submit it
   * makes is refused (Submitter).
   */
  sizing = false;
  /** Per kind, the copy of the checked parameters arenaBytes is given: it may write to it. */
  private readonly sizeArgs: readonly Float64Array[];
  /** How the last slice was obtained, so a refused submit can give it back the same way. */
  private source = FROM_KIND;
  private readonly arena: ArenaAllocator;
  private readonly kinds: KindTable;
  private readonly arenaBytes: number;

  constructor(arena: ArenaAllocator, kinds: KindTable, arenaBytes: number) {
    this.arena = arena;
    this.kinds = kinds;
    this.arenaBytes = arenaBytes;
    this.sizeArgs = kinds.list.map((k) => new Float64Array(k.params.length));
  }

  /**
   * The slice kind `kind` asks for, from its parameters as last read by the kind table,
   * held for the job: its offset, -1 for none, or a Rejection (< -1).
   */
  forKind(kind: number): number {
    const k = this.kinds.list[kind];
    this.bytes = 0;
    this.source = FROM_KIND;
    if (k.arenaBytes === undefined) return -1;
    const arg = this.sizeArgs[kind];
    arg.set(this.kinds.read[kind]);
    let want: unknown;
    this.sizing = true;
    try {
      want = k.arenaBytes(arg);
    } catch {
      return Rejection.BadParams;
    } finally {
      this.sizing = false;
    }
    if (typeof want !== 'number' || !(want >= 0) || (want | 0) !== want) return Rejection.BadParams;
    if (want > this.arenaBytes || (k.maxArenaBytes !== undefined && want > k.maxArenaBytes)) return Rejection.PayloadTooLarge;
    if (want === 0) return -1;
    const off = this.arena.alloc(want, true);
    if (off < 0) return Rejection.ArenaFull;
    this.bytes = want;
    return off;
  }

  /** A bundle's slice of `want` bytes, held for it: its offset, or a Rejection (< -1). */
  forBundle(want: number): number {
    this.bytes = 0;
    this.source = FROM_KIND;
    if (want > this.arenaBytes) return Rejection.PayloadTooLarge;
    const off = this.arena.alloc(want, true);
    if (off < 0) return Rejection.ArenaFull;
    this.bytes = want;
    return off;
  }

  /**
   * A caller's slice from arenaAlloc, handed to the job: its offset or a Rejection (< -1).
   * A refused slice stays with its caller (to submit again, or to arenaFree); one that a
   * job holds, an unknown one, or one smaller than `bytes` is refused.
   */
  fromCaller(kind: number, off: unknown, bytes: unknown, prereqSlice: ((off: number) => boolean) | null): number {
    const size = bytes === undefined ? 0 : bytes;
    if (typeof off !== 'number' || typeof size !== 'number' || !(size >= 0) || (size | 0) !== size) return Rejection.BadParams;
    this.source = FROM_CALLER;
    if (!this.arena.hold(off, size)) {
      // A prerequisite's own result slice, handed to its dependent to read in place: one
      // more holder, freed when the dependent ends.
      if (prereqSlice === null || !prereqSlice(off) || this.arena.sizeOf(off) < size || !this.arena.retain(off)) return Rejection.BadParams;
      this.source = SHARED;
    }
    const max = this.kinds.list[kind].maxArenaBytes;
    if (max !== undefined && size > max) {
      this.giveBack(off);
      return Rejection.PayloadTooLarge;
    }
    this.bytes = size;
    return off;
  }

  /**
   * Gives back the slice the last call chose, for a submit refused after all: a kind's
   * own is freed, a caller's goes back to the caller, a shared one loses this holder.
   */
  giveBack(off: number): void {
    if (off < 0) return;
    if (this.source === FROM_CALLER) this.arena.unhold(off);
    else this.arena.free(off);
  }
}
