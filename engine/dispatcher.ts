/**
 * The dispatcher: chooses a worker for each job, writes its record into that worker's
 * job ring, publishes records in batches, wakes sleeping workers as rarely as it can,
 * and moves a dead worker's queued records to live ones.
 *
 * Worker choice is least queued work first (estimated from each kind's measured run
 * time; a worker holding a job of a kind whose estimate has not caught up yet gets more
 * only when every other is in the same case), with admission control on top: a job that
 * would wait behind more than `admissionMs` of queued work is refused `overloaded` rather
 * than queued to be late.
 *
 * Jobs can also wait in main's hands (state WAITING), in a FIFO per lane: a job whose
 * prerequisites have all ended, and every background-lane job. Background work goes out
 * one job per worker, to at most `backgroundCap` workers at a time, so there is always a
 * worker free for frame work, and frame jobs go to a worker holding background work only
 * when no other has room.
 *
 * Main thread only.
 */
import { stampAt } from './clock.js';
import { MAX_PARAMS } from './kind.js';
import type { KindTable } from './kind-table.js';
import type { JobTable } from './job-table.js';
import {
  JF_PARAMS,
  JF_SUBMIT_TIME,
  J_ARENA_BYTES,
  J_ARENA_OFFSET,
  J_DEADLINE_FRAME,
  J_GEN,
  J_BACKGROUND,
  J_KIND,
  J_RANGE,
  J_BUNDLE,
  J_BUNDLE_COUNT,
  RANGE_WORDS,
  RG_COUNT,
  RG_GRAIN,
  J_SLOT,
  J_SUBMIT_FRAME,
  J_TAG,
  JOB_HEAD_I,
  JOB_TAIL_I,
  RECORD_I32,
  W_BEAT,
} from './layout.js';
import { Rejection } from './outcome.js';
import { LEAD_BLOCK, type FrameCadence } from './pacing.js';
import { leaveJob, type WorkerLink } from './worker-link.js';

/** Queued work (ms) an awake worker takes on before a sleeping one is woken for more. */
const AWAKE_SHARE_MS = 1;
/** How long, ms, a busy frame-pacing lead may go without moving its job head before this thread wakes the siblings it covers for (Dispatcher.checkLead). */
const LEAD_STALL_MS = 1;
/** A wake-up (Atomics.notify) that takes longer than this, ms, is counted slow (EngineStats.wakes). */
export const SLOW_WAKE_MS = 0.25;
/** Queued work (ms) by which the worker that took the last job may lead the least loaded and still take the next. */
const RUN_MS = 1;
/** Estimated run time (ms) up to which a job counts as tiny and goes out in runs (RUN_MS). */
const RUN_JOB_MS = 0.02;
/** Parallel-for helpers go to worker indices below this (their set is one int32 bit mask). */
const MAX_HELPER_INDEX = 31;
/** Queued work (ms) below which a worker holding background work is given more of it. */
const BACKGROUND_QUEUE_MS = 2;
/** Records written before a publish is forced. */
const PUBLISH_BATCH = 16;
/** A worker with fewer published, unread records than this gets each record at once. */
const PUBLISH_LOW_WATER = 32;
/** Tiny jobs a run may take without a full pick (see Dispatcher.pick), between flushes. */
const RUN_PICKS = 64;

export class Dispatcher {
  private readonly workers: readonly WorkerLink[];
  private readonly jobs: JobTable;
  private readonly kinds: KindTable;
  private readonly onCorrupt: (w: WorkerLink, what: string) => void;
  /**
   * This thread's wake-ups of sleeping workers: [count, total ms, longest ms, how many took
   * over SLOW_WAKE_MS, then two clock readings]. An Atomics.notify takes a lock the
   * whole process shares (every Atomics.wait and notify of every thread does); when a
   * thread holding it has lost its core (workers outnumber cores), the notify sleeps until
   * that thread runs again: milliseconds, in the middle of a frame (EngineStats.wakes).
   */
  readonly wakes = new Float64Array(6);
  /** The admission budget, ms (EngineOptions.maxQueueMs). */
  admissionMs: number;
  /** Why the last `pick` returned null. */
  lastPickReason: Rejection = Rejection.RingFull;
  /** Most workers that may hold a background job at once. */
  backgroundCap: number;
  /** Waiting jobs ready for a worker, per lane (0 frame, 1 background): FIFOs of slot and generation. */
  private readonly waitSlot: readonly [Int32Array, Int32Array];
  private readonly waitGen: readonly [Int32Array, Int32Array];
  private readonly waitHead = new Int32Array(2);
  private readonly waitCount = new Int32Array(2);
  /** The worker pick chose last time. */
  private last: WorkerLink | null = null;
  /**
   * A run of tiny jobs: the next `runLeft` picks of a tiny job go to `last` while its queue
   * stays within `runLimitMs`, the point past which a full pick could have chosen another
   * worker when it was made. Ended by every flush (each poll and beginFrame) and head refresh.
   */
  private runLeft = 0;
  private runLimitMs = 0;
  /** Cost of the record moveQueued is moving (a field, so no double crosses a call). */
  private movingCost = 0;
  /** Jobs in the submit being picked for: its kind's cost times this (a bundle's count; a field, so no double crosses a call). */
  scale = 1;
  /** The frame cadence when EngineOptions.framePacing is on (pacing.ts). */
  cadence: FrameCadence | null = null;
  /** The lead's job head at the last flush (checkLead). */
  private leadHead = -1;
  /** 1 once checkLead has stamped when it first found the lead still (leadStill[0], ms) since leadHead last moved. */
  private leadStillSince = 0;
  /** [when the lead was first found still, now], ms. */
  private readonly leadStill = new Float64Array(2);
  private flushQueued = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(
    workers: readonly WorkerLink[],
    jobs: JobTable,
    kinds: KindTable,
    admissionMs: number,
    backgroundCap: number,
    onCorrupt: (w: WorkerLink, what: string) => void,
  ) {
    this.workers = workers;
    this.jobs = jobs;
    this.kinds = kinds;
    this.admissionMs = admissionMs;
    this.backgroundCap = backgroundCap;
    this.onCorrupt = onCorrupt;
    // Twice the job table: an entry whose job was cancelled while waiting stays until it
    // comes up, and a full queue is compacted (see enqueue).
    const n = 2 * jobs.capacity;
    this.waitSlot = [new Int32Array(n), new Int32Array(n)];
    this.waitGen = [new Int32Array(n), new Int32Array(n)];
  }

  /**
   * The least-loaded live worker with room for a job of `kind`, or null (lastPickReason
   * says why). Takes the kind, not its cost: a double crossing a call that is not
   * inlined is boxed.
   */
  pick(kind: number): WorkerLink | null {
    const cost = this.kinds.cost[kind] * this.scale;
    const last = this.last;
    // A full pick reads every worker's queue and, when the least loaded may be asleep,
    // every worker's sleep word (lines the workers write): most of the main thread's time
    // per tiny job. Within a run its answer is known until the queue passes the limit.
    if (this.runLeft > 0 && cost <= RUN_JOB_MS && last !== null && last.queuedMs + cost <= this.runLimitMs && this.canRun(last)) {
      this.runLeft--;
      return last;
    }
    this.runLeft = 0;
    const ws = this.workers;
    let best: WorkerLink | null = null;
    let fallback: WorkerLink | null = null;
    let unsure: WorkerLink | null = null;
    let awakeRule = false;
    // Ties go to the first worker after the one that took the last run, so idle workers
    // take turns.
    const from = last === null || last.index + 1 === ws.length ? 0 : last.index + 1;
    for (let pass = 0; pass < 2 && best === null; pass++) {
      awakeRule = false;
      unsure = null;
      for (let k = 0, i = from; k < ws.length; k++, i = i + 1 === ws.length ? 0 : i + 1) {
        const w = ws[i];
        if (w.life === 'dead' || w.retiring || w.inflight >= w.jobs.capacity) continue;
        if (pass === 1 || w.jobs.full) this.refreshHead(w);
        if (w.jobs.full) continue;
        if (w.life !== 'alive' || w.stale || w.background > 0) {
          // Starting (respawning), stuck in a long job, or holding background work: only if
          // nobody else has room.
          if (fallback === null || fallback.queuedMs > w.queuedMs) fallback = w;
          continue;
        }
        if (w.unmeasured > 0) {
          // Holding a job of a kind not yet measured (KindTable.measured), which may be
          // far longer than its estimate says, and once started is no longer in the queue
          // estimate at all: only if every worker that can run is in the same case.
          if (unsure === null || unsure.queuedMs > w.queuedMs) unsure = w;
          continue;
        }
        if (best === null || w.queuedMs < best.queuedMs) best = w;
      }
      if (best === null) best = unsure;
      // Tiny jobs go to one worker in runs, once every worker has work queued, while the
      // worker that took the last one stays within RUN_MS of the least loaded: each worker
      // then reads its own stretch of job slots and records, where handing tiny jobs out
      // one by one across workers had them share (and bounce) cache lines, at about twice
      // the main thread's cost per job. An idle worker still gets the next job, so a small
      // group spreads over the workers; larger jobs always spread: for them that cost is
      // small, and a second worker starting now is not.
      if (cost <= RUN_JOB_MS && best !== null && best.queuedMs > 0 && last !== null && last !== best && last.queuedMs <= best.queuedMs + RUN_MS && last.queuedMs + cost <= this.admissionMs && this.canRun(last)) best = last;
      // A small burst stays with a worker that is already awake rather than paying a
      // wake-up for each sleeping one; past AWAKE_SHARE_MS of queued work it spreads.
      // Looked at only when the least-loaded worker sleeps: one shared load per submit.
      if (best !== null && best.sleeping) {
        const awake = this.awakeUnderShare(kind);
        if (awake !== null) {
          best = awake;
          awakeRule = true;
        }
      }
      // Over budget on cached figures: refresh every head once and look again.
      if (best !== null && best.queuedMs > 0 && best.queuedMs + cost > this.admissionMs && pass === 0) best = null;
    }
    if (best === null) best = fallback;
    if (best === null) {
      this.lastPickReason = this.allGone() ? Rejection.NoWorkers : Rejection.RingFull;
      return null;
    }
    if (best.queuedMs > 0 && best.queuedMs + cost > this.admissionMs) {
      this.lastPickReason = Rejection.Overloaded;
      return null;
    }
    this.last = best;
    if (cost <= RUN_JOB_MS && this.canRun(best)) this.startRun(best, awakeRule);
    return best;
  }

  /**
   * After a full pick chose `w` for a tiny job: how far its queue may grow while the same
   * pick, the other workers as they are, would choose it again. With every other worker
   * holding work, the run rule keeps it up to RUN_MS past the least loaded of them; chosen
   * because the least loaded slept, up to AWAKE_SHARE_MS; alone, up to the budget. When an
   * idle worker may be free to take the next job, there is no run.
   */
  private startRun(w: WorkerLink, awakeRule: boolean): void {
    const ws = this.workers;
    let others = Infinity;
    for (let i = 0; i < ws.length; i++) {
      const x = ws[i];
      if (x !== w && this.canRun(x) && x.queuedMs < others) others = x.queuedMs;
    }
    let limit = this.admissionMs;
    if (awakeRule) limit = Math.min(limit, AWAKE_SHARE_MS);
    else if (others === 0) return;
    else if (others !== Infinity) limit = Math.min(limit, others + RUN_MS);
    this.runLimitMs = limit;
    this.runLeft = RUN_PICKS;
  }

  /** True when `w` may take a frame job now: alive, taking work, no background work, no job of a kind not yet measured, room. */
  private canRun(w: WorkerLink): boolean {
    return w.life === 'alive' && !w.retiring && !w.stale && w.background === 0 && w.unmeasured === 0 && !w.jobs.full && w.inflight < w.jobs.capacity;
  }

  /** Workers dead for good (their respawn limit reached); the supervisor counts them. */
  gone = 0;

  /** True when there are workers and every one is dead for good: a refusal that retrying cannot cure. */
  allGone(): boolean {
    return this.gone > 0 && this.gone === this.workers.length;
  }

  /** Waiting jobs, in both lanes (some may have been cancelled since they were queued). */
  get waiting(): number {
    return this.waitCount[0] + this.waitCount[1];
  }

  /** Queues a job that waits in main's hands (state WAITING) for the next dispatchWaiting. */
  enqueue(slot: number): void {
    const lane = this.jobs.lane[slot];
    const slots = this.waitSlot[lane];
    if (this.waitCount[lane] === slots.length) this.compact(lane);
    const i = (this.waitHead[lane] + this.waitCount[lane]) % slots.length;
    slots[i] = slot;
    this.waitGen[lane][i] = this.jobs.gen(slot);
    this.waitCount[lane]++;
  }

  /** Drops the entries of jobs that no longer wait (cancelled, taken over). Rare: only when a queue is full. */
  private compact(lane: number): void {
    const slots = this.waitSlot[lane];
    const gens = this.waitGen[lane];
    const n = slots.length;
    let kept = 0;
    for (let k = 0; k < this.waitCount[lane]; k++) {
      const i = (this.waitHead[lane] + k) % n;
      if (!this.jobs.isWaiting(slots[i], gens[i])) continue;
      const j = (this.waitHead[lane] + kept) % n;
      slots[j] = slots[i];
      gens[j] = gens[i];
      kept++;
    }
    this.waitCount[lane] = kept;
  }

  /**
   * Sends waiting jobs to workers while there is room: the frame lane first (in order; a
   * job that finds no room waits for the next call), then the background lane, one job
   * per worker and at most `backgroundCap` workers. Called by submit, poll and when a
   * job's prerequisites have ended.
   */
  dispatchWaiting(): void {
    for (let lane = 0; lane < 2; lane++) {
      const slots = this.waitSlot[lane];
      const gens = this.waitGen[lane];
      while (this.waitCount[lane] > 0) {
        const i = this.waitHead[lane];
        const slot = slots[i];
        const gen = gens[i];
        if (this.jobs.isWaiting(slot, gen)) {
          const w = lane === 0 ? this.pick(this.jobs.kind[slot]) : this.pickBackground();
          if (w === null) break;
          this.jobs.queue(slot);
          this.dispatch(w, slot, gen);
        }
        this.waitHead[lane] = (i + 1) % slots.length;
        this.waitCount[lane]--;
      }
    }
  }

  /**
   * A worker for one more background job: one without any, while fewer than backgroundCap
   * workers hold some; or else one that holds background work but has less than
   * BACKGROUND_QUEUE_MS of work queued, so short jobs do not each wait for a poll.
   */
  private pickBackground(): WorkerLink | null {
    const ws = this.workers;
    let busy = 0;
    let topUp: WorkerLink | null = null;
    let fresh: WorkerLink | null = null;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (w.background > 0) busy++;
      if (!w.serving || w.inflight >= w.jobs.capacity) continue;
      if (w.jobs.full) this.refreshHead(w);
      if (w.jobs.full) continue;
      if (w.background > 0) {
        if (w.queuedMs < BACKGROUND_QUEUE_MS && (topUp === null || w.queuedMs < topUp.queuedMs)) topUp = w;
      } else if (fresh === null || w.queuedMs < fresh.queuedMs) fresh = w;
    }
    return busy < this.backgroundCap && fresh !== null ? fresh : topUp;
  }

  /**
   * The least-loaded awake worker whose queue stays within AWAKE_SHARE_MS with one more job
   * of `kind`, or null. Takes the kind, not its cost (a double crossing a call is boxed).
   */
  private awakeUnderShare(kind: number): WorkerLink | null {
    const cost = this.kinds.cost[kind] * this.scale;
    const ws = this.workers;
    let awake: WorkerLink | null = null;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (!this.canRun(w)) continue;
      if (w.queuedMs + cost <= AWAKE_SHARE_MS && (awake === null || w.queuedMs < awake.queuedMs) && !w.sleeping) awake = w;
    }
    return awake;
  }

  /** Takes the worker's consumed records off its queue estimate. */
  refreshHead(w: WorkerLink): void {
    this.runLeft = 0;
    const ring = w.jobs;
    const head = ring.loadHead();
    if (!ring.validHead(head)) {
      this.onCorrupt(w, 'job head out of range');
      return;
    }
    const mask = ring.mask;
    for (let p = ring.headSeen; p !== head; p = (p + 1) | 0) {
      w.queuedMs -= w.costRing[p & mask];
      w.costRing[p & mask] = 0;
    }
    if (w.queuedMs < 1e-9) w.queuedMs = 0;
    ring.headSeen = head;
  }

  /**
   * Writes the record of the job in `slot` (generation `gen`) into `w`'s job ring.
   * `moved`: the record is being moved from a dead worker's ring (its cost comes along)
   * and is published at once; a new job's record may wait for its batch.
   */
  write(w: WorkerLink, slot: number, gen: number, moved: boolean): void {
    const t = this.jobs;
    const ring = w.jobs;
    const pos = ring.tail;
    const r = ring.recordAt(pos, RECORD_I32);
    const i32 = ring.recI32;
    const kind = t.kind[slot];
    const lane = t.lane[slot];
    const range = t.range[slot];
    const bundle = t.bundle[slot];
    i32[r + J_KIND] = kind | (lane === 0 ? 0 : J_BACKGROUND) | (range === 0 ? 0 : J_RANGE) | (bundle === 0 ? 0 : J_BUNDLE);
    i32[r + J_SLOT] = slot;
    i32[r + J_GEN] = gen;
    i32[r + J_TAG] = t.tag[slot];
    i32[r + J_SUBMIT_FRAME] = t.frame[slot];
    i32[r + J_DEADLINE_FRAME] = t.deadline[slot];
    i32[r + J_ARENA_OFFSET] = t.arenaOffset[slot];
    i32[r + J_ARENA_BYTES] = t.arenaBytes[slot];
    const f = r >> 1;
    const f64 = ring.recF64;
    f64[f + JF_SUBMIT_TIME] = t.time[slot];
    const n = this.kinds.paramCount[kind];
    const pbase = slot * MAX_PARAMS;
    // A bundle's parameters are in its arena slice; its record carries its job count instead.
    if (bundle === 0) for (let i = 0; i < n; i++) f64[f + JF_PARAMS + i] = t.params[pbase + i];
    else i32[r + J_BUNDLE_COUNT] = bundle;
    const cost = moved ? this.movingCost : bundle === 0 ? this.kinds.cost[kind] : this.kinds.cost[kind] * bundle;
    w.costRing[pos & ring.mask] = cost;
    w.queuedMs += cost;
    w.inflight++;
    w.background += lane;
    if (range === 0) {
      const unmeasured = this.kinds.measured[kind] === 0 ? 1 : 0;
      t.unmeasured[slot] = unmeasured;
      w.unmeasured += unmeasured;
      t.ringPos[slot] = pos;
      t.worker[slot] = w.index;
    } else t.rangeMask[slot] |= 1 << w.index;
    ring.tail = (pos + 1) | 0;
    // Publishing is a fenced store on a line the worker polls, the dearest step of a
    // submit, so records are published in batches while the worker has a backlog to chew
    // on; when its visible backlog runs low it is published at once. Whatever is left
    // goes out at the next poll, beginFrame or flush, or when the current task ends
    // (one microtask per burst): never later than the tick that submitted it.
    // The backlog is judged from the head seen at the last poll: it can only be larger
    // than the truth, and the batch limit bounds what that can hold back.
    if (!moved && ((ring.tail - ring.published) | 0) < PUBLISH_BATCH && ((ring.published - ring.headSeen) | 0) >= PUBLISH_LOW_WATER) {
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this.flushTask);
      }
      return;
    }
    this.publish(w);
  }

  /**
   * Sends the new job in `slot` out, starting with worker `w` (the one pick chose): one
   * record for a job, one helper record for each of up to as many workers as a
   * parallel-for job has chunks (it then runs on whichever of them claim its chunks).
   */
  dispatch(w: WorkerLink, slot: number, gen: number): void {
    const t = this.jobs;
    if (t.range[slot] === 0 || w.index < MAX_HELPER_INDEX) this.write(w, slot, gen, false);
    if (t.range[slot] === 0) return;
    const rg = slot * RANGE_WORDS;
    const grain = t.ranges[rg + RG_GRAIN];
    let helpers = Math.max(1, Math.ceil(t.ranges[rg + RG_COUNT] / grain)) - (t.rangeMask[slot] === 0 ? 0 : 1);
    const ws = this.workers;
    // A background job's helpers go only where background work may be: workers holding
    // some already, and others while fewer than backgroundCap do, so a frame job always
    // finds a worker.
    const background = t.lane[slot] !== 0;
    let holders = 0;
    if (background) for (let i = 0; i < ws.length; i++) if (ws[i].background > 0) holders++;
    for (let i = 0; i < ws.length && i < MAX_HELPER_INDEX && helpers > 0; i++) {
      const x = ws[i];
      if (x === w || !x.serving || x.inflight >= x.jobs.capacity) continue;
      if (background && x.background === 0 && holders >= this.backgroundCap) continue;
      if (x.jobs.full) this.refreshHead(x);
      if (x.jobs.full) continue;
      if (background && x.background === 0) holders++;
      this.write(x, slot, gen, false);
      helpers--;
    }
  }

  /** Publishes every record written for `w`, and wakes it if it sleeps. */
  publish(w: WorkerLink): void {
    // ORDERING: the tail's release store (JobRingWriter.publish) comes before SLEEPING is
    // read (seq-cst): if the worker went to sleep before seeing this tail, we see
    // SLEEPING = 1 and wake it.
    w.jobs.publish();
    if (!w.sleeping) return;
    // A wake-up costs tens of microseconds on the waker's thread, so this thread wakes a
    // worker at most once per sleep: a worker's beat moves each time it wakes, and until
    // it has moved past the beat read before our notify, that notify is on its way (a
    // woken worker can take a while to get a core, and every publish until then finds
    // it asleep: this check comes first, as it reads only that worker's line). The beat
    // is read before notifying, so a wake landing in between hides no later sleep. Nor
    // does this thread wake it while another worker is awake or already being woken (an
    // awake worker wakes its sleeping siblings that have work: JobRunner.wakeSiblings).
    const beat = Atomics.load(w.block.i32, W_BEAT);
    if (beat === w.notifiedBeat || this.someoneAwake(w)) return;
    this.wake(w, beat);
  }

  /** Notifies sleeping worker `w`, whose beat was `beat` just before; timed (EngineStats.wakes). */
  private wake(w: WorkerLink, beat: number): void {
    const i32 = w.block.i32;
    w.notifiedBeat = beat;
    const wk = this.wakes;
    stampAt(wk, 4);
    Atomics.notify(i32, JOB_TAIL_I, 1);
    stampAt(wk, 5);
    // In the array, not locals: a double crossing stampAt would be a heap number.
    wk[5] -= wk[4];
    wk[0]++;
    wk[1] += wk[5];
    if (wk[5] > wk[2]) wk[2] = wk[5];
    if (wk[5] > SLOW_WAKE_MS) wk[3]++;
  }

  /** Publishes every record written so far, to every worker. */
  flush(): void {
    this.runLeft = 0;
    const ws = this.workers;
    // Sleeping workers first: an awake one that has not yet been given its own jobs is
    // still idle, so it wakes them (someoneAwake) and this thread need not.
    for (let i = 0; i < ws.length; i++) if (ws[i].jobs.published !== ws[i].jobs.tail && ws[i].sleeping) this.publish(ws[i]);
    for (let i = 0; i < ws.length; i++) if (ws[i].jobs.published !== ws[i].jobs.tail) this.publish(ws[i]);
    if (this.cadence !== null && this.cadence.steady()) this.checkLead();
  }

  /**
   * With frame pacing, the lead wakes its sleeping siblings before each of its jobs, so
   * this thread leaves those wake-ups to it (someoneAwake), however long its queue: a
   * notify from here can sleep on V8's lock. The one way that fails is a lead inside a
   * job far longer than its kind's estimate; so at each flush, if the lead is busy, its
   * job head has not moved for LEAD_STALL_MS and a sibling sleeps on work it has not
   * read, this thread wakes that sibling itself (at most once per sleep, as publish
   * does). The clock is read only in that case: flush runs many times a frame, and a
   * time read in code not yet optimised is a heap number.
   */
  private checkLead(): void {
    const ws = this.workers;
    const lead = ws[LEAD_BLOCK];
    const head = Atomics.load(lead.block.i32, JOB_HEAD_I);
    if (head !== this.leadHead || !lead.busy) {
      this.leadHead = head;
      this.leadStillSince = 0;
      return;
    }
    let waiting = false;
    for (let i = 0; i < ws.length && !waiting; i++) waiting = ws[i] !== lead && this.sleepsOnUnread(ws[i]) && Atomics.load(ws[i].block.i32, W_BEAT) !== ws[i].notifiedBeat;
    if (!waiting) return;
    const still = this.leadStill;
    if (this.leadStillSince === 0) {
      stampAt(still, 0);
      this.leadStillSince = 1;
      return;
    }
    stampAt(still, 1);
    if (still[1] - still[0] < LEAD_STALL_MS) return;
    for (let i = 0; i < ws.length; i++) {
      const x = ws[i];
      if (x === lead || !this.sleepsOnUnread(x)) continue;
      // Read once, before the notify, as in publish.
      const beat = Atomics.load(x.block.i32, W_BEAT);
      if (beat !== x.notifiedBeat) this.wake(x, beat);
    }
  }

  /** True when live worker `x` sleeps with published records it has not read (checkLead). */
  private sleepsOnUnread(x: WorkerLink): boolean {
    return x.serving && x.sleeping && Atomics.load(x.block.i32, JOB_HEAD_I) !== x.jobs.published;
  }

  /**
   * True if a live worker other than `w` is awake between jobs, or has a wake-up from us
   * on its way: it will look at `w`'s ring before its next job or sleep, and wake `w`.
   * ORDERING: called after `w`'s tail was stored; a worker stores its state (BUSY, or
   * SLEEPING) before it scans its siblings' tails, so either we see it idle and awake
   * here and its scan sees our tail, or we see it busy or asleep and wake `w` ourselves.
   */
  private someoneAwake(w: WorkerLink): boolean {
    const ws = this.workers;
    for (let i = 0; i < ws.length; i++) {
      const x = ws[i];
      if (x === w || !x.serving) continue;
      // With frame pacing, the lead (LEAD_BLOCK) looks at its siblings before every job too
      // (JobRunner.drain), so it covers for them even when busy: this thread's notify
      // would meet the lead's and theirs on V8's lock (a stalled lead: checkLead).
      if (x.index === LEAD_BLOCK && this.cadence !== null && this.cadence.steady() && !x.sleeping) return true;
      // Awake and between jobs (it scans before its next job or its next sleep), or
      // being woken by us (it scans on waking). A worker inside a job may not look for
      // a long time, so it does not count.
      if (!x.sleeping ? !x.busy : Atomics.load(x.block.i32, W_BEAT) === x.notifiedBeat) return true;
    }
    return false;
  }

  /**
   * Takes a still-queued job's record off its worker's queue estimate (the worker will skip
   * it). A job that never reached a ring (it waited in main's hands) has nothing to take.
   */
  unqueue(slot: number): void {
    const t = this.jobs;
    // A parallel-for job's helper records keep their cost until each worker's head passes them.
    if (t.range[slot] === 1) return leaveJob(this.workers, t, slot, null);
    const index = t.worker[slot];
    if (index < 0) return;
    const w = this.workers[index];
    const p = t.ringPos[slot] & w.jobs.mask;
    w.queuedMs -= w.costRing[p];
    if (w.queuedMs < 1e-9) w.queuedMs = 0;
    w.costRing[p] = 0;
    w.leave(t, slot);
  }

  /** Moves a dead worker's unclaimed records to live workers, all or none, keeping their order. */
  moveQueued(dead: WorkerLink): void {
    const ring = dead.jobs;
    const t = this.jobs;
    const head = ring.loadHead();
    if (!ring.validHead(head)) return;
    const movable = (p: number): number => {
      const r = ring.recordAt(p, RECORD_I32);
      const slot = ring.recI32[r + J_SLOT];
      if (slot < 0 || slot >= t.capacity || !t.isQueued(slot, ring.recI32[r + J_GEN])) return -1;
      const mine = t.range[slot] === 0 ? t.worker[slot] === dead.index : (t.rangeMask[slot] & (1 << dead.index)) !== 0;
      return mine ? slot : -1;
    };
    // A parallel-for job's helper record needs no new home while another worker holds one
    // of the same job: that helper opens the range and claims every chunk. Moved onto a
    // worker holding one already, it would be charged there twice and left once.
    const othersHold = (slot: number): boolean => t.range[slot] === 1 && (t.rangeMask[slot] & ~(1 << dead.index)) !== 0;
    let count = 0;
    let stay = 0;
    for (let p = head; p !== ring.tail; p = (p + 1) | 0) {
      const slot = movable(p);
      if (slot < 0) continue;
      if (othersHold(slot)) stay++;
      else count++;
    }
    let room = 0;
    for (const w of this.workers) {
      if (w === dead || !w.serving) continue;
      this.refreshHead(w);
      room += Math.min(w.jobs.capacity - w.jobs.backlog, w.jobs.capacity - w.inflight);
    }
    if (count + stay === 0 || room < count) return;
    for (let p = head; p !== ring.tail; p = (p + 1) | 0) {
      const slot = movable(p);
      if (slot < 0) continue;
      this.movingCost = dead.costRing[p & ring.mask];
      dead.costRing[p & ring.mask] = 0;
      const stays = othersHold(slot);
      dead.leave(t, slot);
      t.rangeMask[slot] &= ~(1 << dead.index);
      if (stays) continue;
      let target: WorkerLink | null = null;
      for (const w of this.workers) {
        if (w === dead || !w.serving || w.jobs.full || w.inflight >= w.jobs.capacity) continue;
        if (target === null || w.queuedMs < target.queuedMs) target = w;
      }
      if (target === null) break;
      this.write(target, slot, t.gen(slot), true);
    }
    dead.queuedMs = 0;
    ring.discardAll();
  }
}
