/**
 * The supervisor: spawns worker threads and waits for their init, watches heartbeats,
 * retires hung, killed or corrupt workers, accounts for a dead worker's jobs (published
 * results stay for poll, a claimed job fails, queued ones move to live workers), and
 * respawns within the per-minute limit. It also reports worker health and events.
 *
 * Main thread only.
 */
import type { EngineEvent, HostedWorker, WorkerHealth, WorkerHost, WorkerSource, WorkerState } from './api.js';
import { sharedNow, within } from './clock.js';
import type { Collector } from './collector.js';
import type { Dispatcher } from './dispatcher.js';
import { EngineError, shownValue, thrownText, type FailureReason } from './errors.js';
import type { JobTable } from './job-table.js';
import type { Books } from './books.js';
import { JOB_TAIL_I, RECORD_I32, R_SLOT, RES_HEAD_I, S_CANCELLED, S_RUNNING, W_BEAT, W_CUR_GEN, W_CUR_SLOT, W_EPOCH, W_JOBS_DONE, W_RETIRE, W_SLEEPING, W_STATE } from './layout.js';
import type { ResolvedOptions } from './options.js';
import type { WorkerInit, WorkerMessage } from './worker-entry.js';
import { leaveJob, type WorkerLink } from './worker-link.js';
import { Outcome } from './outcome.js';

/** Most shutdown waits for the host to confirm that terminated threads are gone, ms. */
export const TERMINATE_WAIT_MS = 5000;

const ignore = (): void => {};

/**
 * Asks the host to stop a thread. A custom host's terminate that throws or rejects is
 * not the engine's failure: the thread's exit (or shutdown's wait running out) decides.
 */
function stopThread(hosted: HostedWorker): Promise<void> {
  try {
    return Promise.resolve(hosted.terminate()).then(ignore, ignore);
  } catch {
    return Promise.resolve();
  }
}

/** The engine's own life: taking jobs, draining for shutdown, or done. */
export const enum EngineState {
  Running,
  Stopping,
  Stopped,
}

export interface SpawnSpec {
  readonly host: WorkerHost;
  readonly workerSource: WorkerSource;
  readonly sab: SharedArrayBuffer;
  readonly kindNames: readonly string[];
}

export class Supervisor {
  /** Called when a respawned worker is up, before its event. */
  onRespawned: (() => void) | null = null;
  /** Called for worker lifecycle events (exit, hang, respawn, init failure). */
  onEvent: ((e: EngineEvent) => void) | null = null;
  state = EngineState.Running;
  /** False until every first worker is up: no respawns while start() can still fail. */
  booted = false;
  private readonly workers: readonly WorkerLink[];
  private readonly opts: ResolvedOptions;
  private readonly spec: SpawnSpec | null;
  private readonly jobs: JobTable;
  private readonly books: Books;
  private readonly dispatcher: Dispatcher;
  private readonly collector: Collector;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  /** Marks, per slot, the jobs whose results a dead worker had already published. */
  private readonly scratchMark: Uint8Array;

  constructor(workers: readonly WorkerLink[], opts: ResolvedOptions, spec: SpawnSpec | null, jobs: JobTable, books: Books, dispatcher: Dispatcher, collector: Collector) {
    this.workers = workers;
    this.opts = opts;
    this.spec = spec;
    this.jobs = jobs;
    this.books = books;
    this.dispatcher = dispatcher;
    this.collector = collector;
    this.scratchMark = new Uint8Array(jobs.capacity);
  }

  /** Spawns every worker and waits for all to be ready; on any failure stops them all and rethrows. */
  async boot(): Promise<void> {
    const results = await Promise.allSettled(this.workers.map((w) => this.spawn(w)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.state = EngineState.Stopped;
      await this.terminateAll();
      throw failed.reason;
    }
    this.booted = true;
    this.watchdog = setInterval(() => this.checkHealth(), this.opts.heartbeatMs);
    (this.watchdog as { unref?: () => void }).unref?.();
  }

  /** Stops the watchdog; no more hang checks or respawns. */
  stopWatching(): void {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /**
   * Terminates every thread still running and waits for each to be gone, or for
   * TERMINATE_WAIT_MS: a host that never confirms an exit must not hold shutdown for ever.
   */
  async terminateAll(): Promise<void> {
    const gone = Promise.all(this.workers.map((w) => (w.hosted !== null ? stopThread(w.hosted) : undefined)));
    await within(gone, TERMINATE_WAIT_MS, () => null).catch(ignore);
  }

  /** True while some worker thread has not exited. */
  get anyThreadUp(): boolean {
    return this.workers.some((w) => w.life !== 'dead');
  }

  /** Resolves when every thread that is up now has exited. */
  allExited(): Promise<void> {
    return Promise.all(this.workers.filter((w) => w.hosted !== null).map((w) => w.exited)).then(() => undefined);
  }

  emit(e: EngineEvent): void {
    try {
      this.onEvent?.(e);
    } catch {
      // A throwing listener must not break recovery.
    }
  }

  private spawn(w: WorkerLink): Promise<void> {
    const spec = this.spec!;
    w.life = 'starting';
    w.retiring = false;
    w.stale = false;
    w.deadReason = null;
    w.exitReason = 'worker-lost';
    const i32 = w.block.i32;
    Atomics.store(i32, W_EPOCH, w.respawns);
    Atomics.store(i32, W_RETIRE, 0);
    Atomics.store(i32, W_STATE, 0);
    Atomics.store(i32, W_CUR_SLOT, -1);
    // A worker killed in its sleep left SLEEPING set: its successor would look asleep and
    // being woken (Dispatcher.someoneAwake) until it first slept itself.
    Atomics.store(i32, W_SLEEPING, 0);
    w.notifiedBeat = -1;
    const init: WorkerInit = {
      type: 'framejobs-init',
      sab: spec.sab,
      workerIndex: w.index,
      kindModules: this.opts.kindModules,
      kindNames: spec.kindNames,
      shared: this.opts.shared,
      config: this.opts.config,
      nice: this.opts.workerNice,
    };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let hosted: HostedWorker | null = null;
      let exitResolve: () => void = () => {};
      w.exited = new Promise<void>((r) => (exitResolve = r));
      const fail = (err: EngineError, reason: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        w.deadReason = reason;
        reject(err);
      };
      const timer = setTimeout(() => {
        if (settled) return;
        this.emit({ type: 'worker-init-timeout', worker: w.index, timeoutMs: this.opts.initTimeoutMs });
        fail(new EngineError('WORKER_INIT_TIMEOUT', `worker ${w.index} did not finish init within ${this.opts.initTimeoutMs} ms`), 'init-timeout');
        w.retiring = true;
        if (hosted !== null) void stopThread(hosted);
      }, this.opts.initTimeoutMs);
      try {
        hosted = spec.host.spawn(
          spec.workerSource,
          init,
          {
            onMessage: (data: unknown) => {
              const m = data as WorkerMessage;
              if (m?.type === 'ready' && !settled) {
                settled = true;
                clearTimeout(timer);
                w.life = 'alive';
                w.lastBeat = Atomics.load(i32, W_BEAT);
                w.lastBeatAt = sharedNow();
                resolve();
              } else if (m?.type === 'init-error' && !settled) {
                this.emit({ type: 'worker-init-failed', worker: w.index, message: m.message });
                const code = m.code === 'LAYOUT_MISMATCH' ? 'LAYOUT_MISMATCH' : 'WORKER_INIT_FAILED';
                fail(new EngineError(code, `worker ${w.index} failed to initialise: ${m.message}`), 'init-failed');
              }
            },
            onError: (message: string) => {
              if (settled) return;
              this.emit({ type: 'worker-init-failed', worker: w.index, message });
              fail(new EngineError('WORKER_INIT_FAILED', `worker ${w.index} failed to initialise: ${message}`), 'init-failed');
            },
            onExit: (exitCode: number, reason: string) => {
              fail(new EngineError('WORKER_INIT_FAILED', `worker ${w.index} exited with code ${exitCode} during init`), 'init-failed');
              if (w.hosted === hosted) this.onWorkerExit(w, exitCode, reason);
              exitResolve();
            },
          },
          this.opts.resourceLimits,
        );
      } catch (err) {
        // The host could not even start the thread (a bad URL, an init message that
        // cannot be cloned): no thread, nothing to wait for.
        w.life = 'dead';
        exitResolve();
        fail(new EngineError('WORKER_INIT_FAILED', `worker ${w.index} could not be started: ${thrownText(err)}`), 'init-failed');
        return;
      }
      w.hosted = hosted;
    });
  }

  /** Heartbeat check, from a timer: a hang is seen even if the loop stops polling. Also runs while stopping. */
  private checkHealth(): void {
    if (this.state === EngineState.Stopped) return;
    const t = sharedNow();
    for (const w of this.workers) {
      if (w.life !== 'alive' || w.retiring) continue;
      const i32 = w.block.i32;
      const beat = Atomics.load(i32, W_BEAT);
      if (beat !== w.lastBeat) {
        w.lastBeat = beat;
        w.lastBeatAt = t;
        w.stale = false;
        continue;
      }
      const silent = t - w.lastBeatAt;
      w.stale = silent >= this.opts.staleMs && w.busy;
      if (silent >= this.opts.hangTimeoutMs && w.busy) {
        const slot = Atomics.load(i32, W_CUR_SLOT);
        const gen = Atomics.load(i32, W_CUR_GEN);
        this.emit({ type: 'worker-hung', worker: w.index, jobId: slot >= 0 ? this.jobs.idOf(slot, gen) : -1, silentMs: silent });
        this.retire(w, 'hung');
      }
    }
  }

  /** Ends a worker's thread: it takes no new work and is terminated; recovery follows its exit. */
  retire(w: WorkerLink, reason: string): void {
    if (w.retiring || w.hosted === null) return;
    w.retiring = true;
    w.deadReason = reason;
    // ORDERING: a worker between jobs sees RETIRE and stops touching its rings at once;
    // recovery still waits for the host to report the thread gone.
    Atomics.store(w.block.i32, W_RETIRE, 1);
    Atomics.notify(w.block.i32, JOB_TAIL_I);
    void stopThread(w.hosted);
  }

  /**
   * A ring index outside its ring means the worker wrote something it should not have:
   * nothing more is read from it, and it is retired and respawned like a crashed one.
   */
  corrupt(w: WorkerLink, _what: string): void {
    this.books.corruptRings++;
    if (w.life === 'alive') this.retire(w, `corrupt ring: ${_what}`);
  }

  private onWorkerExit(w: WorkerLink, exitCode: number, hostReason: string): void {
    const wasAlive = w.life === 'alive';
    w.life = 'dead';
    w.hosted = null;
    const reason = w.deadReason ?? (hostReason === 'out-of-memory' ? 'out-of-memory' : hostReason);
    w.deadReason = reason;
    if (this.state === EngineState.Stopped) return;
    const running = this.state === EngineState.Running;
    const lostReason: FailureReason = !running ? 'shutdown' : hostReason === 'out-of-memory' ? 'worker-out-of-memory' : 'worker-lost';
    if (hostReason === 'out-of-memory') {
      const slot = Atomics.load(w.block.i32, W_CUR_SLOT);
      const gen = Atomics.load(w.block.i32, W_CUR_GEN);
      this.emit({ type: 'worker-out-of-memory', worker: w.index, jobId: slot >= 0 ? this.jobs.idOf(slot, gen) : -1 });
    }
    if (running || exitCode !== 0) this.emit({ type: 'worker-exit', worker: w.index, exitCode, reason });
    this.recover(w, lostReason);
    if (this.booted && running && (wasAlive || reason === 'init-timeout' || reason === 'init-failed')) this.scheduleRespawn(w);
  }

  /** Accounts for a dead worker's jobs: published results stay for poll, claimed ones fail, queued ones move. */
  private recover(w: WorkerLink, reason: FailureReason): void {
    // Records written but not yet published belong to the ring like the rest.
    w.jobs.publish();
    const ring = w.results;
    const mark = this.scratchMark;
    const t = this.jobs;
    let tail = ring.loadTail();
    if (!ring.validTail(tail)) {
      // A dead worker's indices are not trusted past its ring: nothing it published is read.
      ring.truncate();
      tail = ring.head;
    }
    const eachPublished = (set: number): void => {
      for (let p = ring.head; p !== tail; p = (p + 1) | 0) {
        const s = ring.recI32[(p & ring.mask) * RECORD_I32 + R_SLOT];
        if (s >= 0 && s < mark.length) mark[s] = set;
      }
    };
    eachPublished(1);
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.live[slot] === 0 || t.worker[slot] !== w.index) continue;
      if (t.state(slot) !== S_RUNNING || mark[slot] === 1 || t.lost[slot] === 1) continue;
      w.leave(t, slot);
      if (t.taken[slot] === 1) this.collector.releaseTaken(slot);
      else this.collector.queueLost(slot, reason);
    }
    // A parallel-for job it was running chunks of: a chunk it held will never settle, so
    // the job fails like any job its worker died under, and nobody claims more of it.
    const cur = Atomics.load(w.block.i32, W_CUR_SLOT);
    if (cur >= 0 && cur < t.capacity && t.range[cur] === 1 && t.live[cur] === 1 && t.isRunning(cur, Atomics.load(w.block.i32, W_CUR_GEN)) && mark[cur] === 0 && t.lost[cur] === 0) {
      t.closeRange(cur);
      leaveJob(this.workers, t, cur, null);
      if (t.taken[cur] === 1) this.collector.releaseRange(cur);
      else this.collector.queueLost(cur, reason, w.index);
    }
    eachPublished(0);
    this.dispatcher.moveQueued(w);
    // While stopping there is no respawn: what could not move is cancelled, as shutdown
    // cancels every job that never started.
    if (this.state !== EngineState.Running) this.cancelQueued(w.index);
  }

  /** Cancels every job still queued (on worker `index`, or on any worker for -1); returns how many. */
  cancelQueued(index: number): number {
    const t = this.jobs;
    let n = 0;
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.live[slot] === 0 || t.taken[slot] === 1 || (index >= 0 && t.worker[slot] !== index)) continue;
      if (!t.tryUnqueue(slot, S_CANCELLED)) continue;
      this.dispatcher.unqueue(slot);
      this.books.end(slot, Outcome.Cancelled);
      t.release(slot);
      n++;
    }
    return n;
  }

  /**
   * Fails the jobs still queued on a worker that will not come back (respawn limit
   * reached): nothing else would ever run them.
   */
  private abandonQueued(w: WorkerLink): void {
    const t = this.jobs;
    const bit = 1 << w.index;
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.live[slot] === 0 || t.taken[slot] === 1) continue;
      if (t.range[slot] === 1) {
        // A parallel-for job's helper record here will never be read. While another
        // worker holds one, that helper opens the range; held by none, it would wait for ever.
        if ((t.rangeMask[slot] & bit) === 0) continue;
        t.rangeMask[slot] &= ~bit;
        w.leave(t, slot);
        if (t.rangeMask[slot] !== 0) continue;
      } else if (t.worker[slot] !== w.index) continue;
      if (!t.tryUnqueue(slot, S_CANCELLED)) continue;
      this.dispatcher.unqueue(slot);
      this.collector.queueLost(slot, 'worker-lost', w.index);
    }
  }

  private scheduleRespawn(w: WorkerLink): void {
    const t = sharedNow();
    w.respawnTimes = w.respawnTimes.filter((x) => t - x < 60_000);
    if (w.respawnTimes.length >= this.opts.maxRespawnsPerMinute) {
      w.deadReason = `${w.deadReason ?? 'dead'}; respawn limit reached`;
      // Dead for good: a worker that will never come back (it has no thread to exit again).
      this.dispatcher.gone++;
      this.abandonQueued(w);
      return;
    }
    w.respawnTimes.push(t);
    w.respawns++;
    this.books.respawns++;
    this.spawn(w).then(
      () => {
        this.onRespawned?.();
        this.emit({ type: 'worker-respawned', worker: w.index, respawns: w.respawns });
      },
      () => {
        // Init failures are reported through events; the exit handler retries within the limit.
      },
    );
  }

  /**
   * Terminates worker `index` as if it had crashed. Throws EngineError('INVALID_OPTION')
   * for an index that is not a worker's.
   */
  kill(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.opts.workers) {
      throw new EngineError('INVALID_OPTION', `killWorker: worker index must be an integer in [0, ${this.opts.workers - 1}], got ${shownValue(index)}`);
    }
    const w = this.workers[index];
    if (w.life === 'alive') this.retire(w, 'killed');
  }

  /** Wakes every worker asleep on either ring word, so it sees the engine stopping now. */
  wakeAll(): void {
    for (const w of this.workers) {
      // ORDERING: called after H_ENGINE_STATE was set to STOPPING.
      Atomics.notify(w.block.i32, JOB_TAIL_I);
      Atomics.notify(w.block.i32, RES_HEAD_I);
    }
  }

  /** Per worker: alive / stale / dead from its heartbeat. A pure query. */
  health(): WorkerHealth[] {
    const t = sharedNow();
    const out: WorkerHealth[] = [];
    for (let i = 0; i < this.opts.workers; i++) {
      const w = this.workers[i];
      const i32 = w.block.i32;
      const beats = Atomics.load(i32, W_BEAT);
      let state: WorkerState;
      if (w.life === 'dead' || (w.retiring && w.life !== 'starting')) state = 'dead';
      else if (w.life === 'starting') state = 'starting';
      // A beat that moved since the watchdog's last look is a live worker.
      else state = beats === w.lastBeat && t - w.lastBeatAt > this.opts.staleMs ? 'stale' : 'alive';
      const slot = Atomics.load(i32, W_CUR_SLOT);
      const gen = Atomics.load(i32, W_CUR_GEN);
      out.push({
        index: i,
        state,
        beats,
        currentJob: slot >= 0 && state !== 'dead' ? this.jobs.idOf(slot, gen) : -1,
        jobsProcessed: Atomics.load(i32, W_JOBS_DONE),
        respawns: w.respawns,
        reason: state === 'dead' ? w.deadReason : null,
      });
    }
    return out;
  }
}
