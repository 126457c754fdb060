/**
 * The books of one peer's run: every job gets the next id `i`, is asked `(i, 1)` (or, for
 * the frame budget, whatever `expect` says), and must come back exactly once with the
 * right answer. Kept apart from the timing so the test can check the books of a run
 * whose figures it ignores.
 *
 * Page thread only.
 */
import type { Verification } from './protocol.js';

const NONE = 0;
const OK = 1;
const BAD = 2;

export class Ledger {
  private seen = new Uint8Array(1 << 16);
  private submittedCount = 0;
  private duplicates = 0;
  private wrong = 0;

  /** Jobs handed out so far. */
  get submitted(): number {
    return this.submittedCount;
  }

  /** The id of a new job. Grows its table now and then (outside any timed call of the peer). */
  next(): number {
    const i = this.submittedCount++;
    if (i >= this.seen.length) {
      const bigger = new Uint8Array(this.seen.length * 2);
      bigger.set(this.seen);
      this.seen = bigger;
    }
    return i;
  }

  /** Takes back the last id handed out: that job was never submitted (refused). */
  unissue(): void {
    this.submittedCount--;
  }

  /** Job `i` came back with `value`; `ok` says whether that is its right answer. */
  take(i: number, ok: boolean): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.submittedCount) {
      this.wrong++;
      return;
    }
    const s = this.seen[i];
    if (s !== NONE) {
      this.duplicates++;
      this.seen[i] = BAD;
      return;
    }
    if (!ok) this.wrong++;
    this.seen[i] = ok ? OK : BAD;
  }

  /** Job `i` of the tiny kind came back with `value` (its answer must be i + 1). */
  takeTiny(i: number, value: number): void {
    this.take(i, value === i + 1);
  }

  verify(): Verification {
    let ok = 0;
    let missing = 0;
    for (let i = 0; i < this.submittedCount; i++) {
      if (this.seen[i] === OK) ok++;
      else if (this.seen[i] === NONE) missing++;
    }
    return { submitted: this.submittedCount, ok, missing, duplicates: this.duplicates, wrong: this.wrong };
  }
}
