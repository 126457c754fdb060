/**
 * The main thread's link to one worker index: its ring ends, what the dispatcher knows of
 * its queue, and what the supervisor knows of its life. A link outlives the threads that
 * serve it: a respawned worker takes over the same block, rings and link.
 *
 * Main thread only.
 */
import type { HostedWorker } from './api.js';
import type { FailureReason } from './errors.js';
import type { JobTable } from './job-table.js';
import { W_SLEEPING, W_STATE, WS_BUSY, type WorkerBlockView } from './layout.js';
import { JobRingWriter, ResultRingReader } from './rings.js';

/**
 * Where a worker index is in its life. `starting`: spawned, init not finished (or being
 * respawned); `alive`: taking jobs; `dead`: its thread is gone (and a respawn may follow).
 * Health reports refine `alive` into alive or stale from the heartbeat.
 */
export type Life = 'starting' | 'alive' | 'dead';

export class WorkerLink {
  readonly index: number;
  readonly block: WorkerBlockView;
  readonly jobs: JobRingWriter;
  readonly results: ResultRingReader;
  /** Estimated ms of each queued record, indexed like the job ring. */
  readonly costRing: Float64Array;
  hosted: HostedWorker | null = null;
  life: Life = 'starting';
  /** Set when main has decided this thread must go (killed, hung, corrupt): it takes no new work. */
  retiring = false;
  /** Why it is dead, when it is. */
  deadReason: string | null = null;
  /** Busy with a silent heartbeat (set by the watchdog): dispatched to only as a last resort. */
  stale = false;
  /** Live jobs assigned here whose results main has not yet taken. */
  inflight = 0;
  /** How many of those are background-lane jobs. */
  background = 0;
  /** How many of those are of a kind not yet measured when sent here (KindTable.measured): they may be long. */
  unmeasured = 0;
  /** Estimated ms of the records in [jobs.headSeen, jobs.tail). */
  queuedMs = 0;
  /** The heartbeat as last read by the watchdog, and when it last moved. */
  lastBeat = -1;
  lastBeatAt = 0;
  /** The worker's beat when it was last notified (see Dispatcher.publish). */
  notifiedBeat = -1;
  respawns = 0;
  /** Times of recent respawns, for maxRespawnsPerMinute. */
  respawnTimes: number[] = [];
  exitReason: FailureReason = 'worker-lost';
  /** Resolves when the current thread has exited. */
  exited: Promise<void> = Promise.resolve();

  constructor(index: number, block: WorkerBlockView) {
    this.index = index;
    this.block = block;
    this.jobs = new JobRingWriter(block);
    this.results = new ResultRingReader(block);
    this.costRing = new Float64Array(block.capacity);
  }

  /** A job assigned here has left it (its result taken, or it was cancelled, moved or lost). */
  leave(jobs: JobTable, slot: number): void {
    this.inflight--;
    this.background -= jobs.lane[slot];
    this.unmeasured -= jobs.unmeasured[slot];
  }

  /** Alive and not being retired: may be given work. */
  get serving(): boolean {
    return this.life === 'alive' && !this.retiring;
  }

  /** Asleep in Atomics.wait (as of this load). */
  get sleeping(): boolean {
    return Atomics.load(this.block.i32, W_SLEEPING) === 1;
  }

  /** Inside a handler (as of this load). */
  get busy(): boolean {
    return Atomics.load(this.block.i32, W_STATE) === WS_BUSY;
  }
}

/**
 * The job in `slot` has left worker `w` (its result taken, or it was cancelled, moved or
 * lost). A parallel-for job leaves every worker that holds one of its helper records.
 */
export function leaveJob(workers: readonly WorkerLink[], jobs: JobTable, slot: number, w: WorkerLink | null): void {
  if (jobs.range[slot] === 0) {
    if (w !== null) w.leave(jobs, slot);
    return;
  }
  let mask = jobs.rangeMask[slot];
  jobs.rangeMask[slot] = 0;
  for (let i = 0; mask !== 0; i++, mask >>>= 1) if ((mask & 1) !== 0) workers[i].leave(jobs, slot);
}
