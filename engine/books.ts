/**
 * The engine's books: every counter, and the only code that moves them. A job enters
 * the books once (`admit`, or `reject` for a refused submit) and leaves once (`end`),
 * so the accounting invariant
 *
 *   submitted = completed + failed + rejected + expired + cancelled + inFlight
 *
 * holds by construction after every call, whatever path a job takes.
 *
 * Main thread only.
 */
import { Outcome, type Rejection } from './outcome.js';
import type { TraceRecorder } from './trace-recorder.js';

export class Books {
  private nSubmitted = 0;
  private nCompleted = 0;
  private nFailed = 0;
  private nExpired = 0;
  private nCancelled = 0;
  private nRejected = 0;
  private nInFlight = 0;
  /** Rejections by code, indexed by -code. */
  readonly rejectedBy = new Float64Array(16);
  /** Respawns of any worker. */
  respawns = 0;
  /** Result records that named a slot not running that generation (stale or torn); never applied. */
  staleRecords = 0;
  /** Times a worker's ring index was found outside its ring. */
  corruptRings = 0;
  /** Told of every job's outcome as it is counted (prerequisites release their dependents, run() promises settle); null while nothing needs it. */
  onEnd: ((slot: number, outcome: Outcome) => void) | null = null;
  /** The job timeline, when EngineOptions.trace is on: told of every refusal and outcome. */
  trace: TraceRecorder | null = null;
  /** Per slot, the outcome of the job there once counted (JobTable.outcome). */
  outcomes: Uint8Array | null = null;
  /** Per slot, the jobs a bundle there holds, 0 for a single job (JobTable.bundle): a bundle enters and leaves the books as that many jobs. */
  bundles: Int32Array | null = null;

  get submitted(): number {
    return this.nSubmitted;
  }
  get completed(): number {
    return this.nCompleted;
  }
  get failed(): number {
    return this.nFailed;
  }
  get expired(): number {
    return this.nExpired;
  }
  get cancelled(): number {
    return this.nCancelled;
  }
  get rejected(): number {
    return this.nRejected;
  }
  get inFlight(): number {
    return this.nInFlight;
  }

  /** A submit of `jobs` jobs (more than one: a bundle) that was refused: submitted and rejected, never in flight. Returns `code`. */
  reject(code: Rejection, jobs = 1): number {
    this.nSubmitted += jobs;
    this.nRejected += jobs;
    this.rejectedBy[-code] += jobs;
    if (this.trace !== null) this.trace.reject(code);
    return code;
  }

  /** A submit of `jobs` jobs (more than one: a bundle) that was accepted: in flight until its `end`. */
  admit(jobs = 1): void {
    this.nSubmitted += jobs;
    this.nInFlight += jobs;
  }

  /** The one outcome of the accepted job in `slot` (of each job, for a bundle): counted, out of flight, and announced. */
  end(slot: number, outcome: Outcome): void {
    const bundled = this.bundles === null ? 0 : this.bundles[slot];
    const n = bundled > 0 ? bundled : 1;
    if (outcome === Outcome.Done) this.nCompleted += n;
    else if (outcome === Outcome.Failed) this.nFailed += n;
    else if (outcome === Outcome.Expired) this.nExpired += n;
    else this.nCancelled += n;
    this.nInFlight -= n;
    this.announce(slot, outcome);
  }

  /** One of a bundle's jobs delivered with `outcome` (done, failed or expired): counted, out of flight. */
  deliveredJob(outcome: Outcome): void {
    if (outcome === Outcome.Done) this.nCompleted++;
    else if (outcome === Outcome.Failed) this.nFailed++;
    else this.nExpired++;
    this.nInFlight--;
  }

  /**
   * Announces the outcome of the job in `slot`: to the trace, its dependents and onEnd.
   * `end` does it with the count; a bundle's outcome as a whole (failed if any job failed)
   * is announced on its own when its result is taken, and its jobs are counted as they are
   * delivered (`deliveredJob`), so that none is out of flight before the game has it.
   */
  announce(slot: number, outcome: Outcome): void {
    const trace = this.trace;
    if (trace !== null && (!trace.draining || outcome === Outcome.Cancelled)) trace.end(slot, outcome);
    if (this.outcomes !== null) this.outcomes[slot] = outcome;
    if (this.onEnd !== null) this.onEnd(slot, outcome);
  }

  /** The invariant, for reports and tests. */
  balanced(): boolean {
    return this.nSubmitted === this.nCompleted + this.nFailed + this.nRejected + this.nExpired + this.nCancelled + this.nInFlight;
  }
}
