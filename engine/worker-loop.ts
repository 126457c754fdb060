/**
 * The job runner: takes job records off one worker's job ring, runs their handlers
 * and publishes result records. The same class runs inside every worker thread and,
 * with `workers: 0`, on the engine's own thread inside poll(), so inline and threaded
 * runs execute identical code.
 *
 * Threads: a runner belongs to exactly one thread, the consumer of its job ring and the
 * producer of its result ring. Nothing here allocates per job: params, results and the
 * job context are reused buffers, and errors (the rare case) are the only strings built.
 */
import { platform } from '#platform';
import { sharedNow, stampAt } from './clock.js';
import { writeErrorText } from './error-text.js';
import { MAX_RESULTS } from './kind.js';
import type { KindRuntime } from './kind-runtime.js';
import { Outcome } from './outcome.js';
import {
  ENGINE_STOPPING,
  H_CURRENT_FRAME,
  H_ENGINE_STATE,
  H_ID_SALT,
  HEADER_BYTES,
  HF_FRAME_PERIOD,
  JF_PARAMS,
  JF_SUBMIT_TIME,
  J_BACKGROUND,
  J_KIND_MASK,
  J_RANGE,
  J_BUNDLE,
  J_BUNDLE_COUNT,
  bundleResultsAt,
  bundleStatusAt,
  arenaViews,
  MAX_RANGE,
  RANGE_WORDS,
  RG_COUNT,
  RG_ERROR,
  RG_ERROR_WORKER,
  RG_GRAIN,
  RG_NEXT,
  RG_SETTLED,
  rangeTag,
  J_ARENA_BYTES,
  J_ARENA_OFFSET,
  J_DEADLINE_FRAME,
  J_GEN,
  J_KIND,
  J_SLOT,
  J_SUBMIT_FRAME,
  J_TAG,
  JOB_HEAD_I,
  JOB_TAIL_I,
  H_RESULT_WANTED,
  RECORD_I32,
  RES_HEAD_I,
  RF_FINISH_TIME,
  RF_RUN_MS,
  RF_VALUES,
  R_ERR_SEQ,
  R_GEN,
  R_KIND,
  R_SLOT,
  R_STATUS,
  R_TAG,
  R_VALUE_COUNT,
  R_WORKER,
  STATE_BITS,
  S_QUEUED,
  S_RUNNING,
  W_BEAT,
  W_CUR_GEN,
  W_CUR_SLOT,
  W_JOBS_DONE,
  W_JOBS_FAILED,
  W_RETIRE,
  W_SLEEPING,
  W_STATE,
  WS_BUSY,
  WS_IDLE,
  WS_STOPPED,
  WorkerBlockView,
  histogramBucket,
  jobIdOf,
  traceRingOffset,
  traceWorkerEvents,
  type Layout,
} from './layout.js';
import { LEAD_BLOCK, untilFrameWindow } from './pacing.js';
import { JobRingReader, ResultRingWriter } from './rings.js';
import { wakeResultWaiter } from './result-wait.js';
import { TraceRingWriter } from './trace-ring.js';

/** How long an idle worker keeps polling its ring before it sleeps in Atomics.wait, ms (see Platform.workerSpinMs). */
export const SPIN_MS = platform.workerSpinMs;
/** One timed wait of the frame-pacing lead's doze, ms (Platform.leadDozeMs). */
const DOZE_MS = platform.leadDozeMs;
/** The job head, counters and heartbeat are published at least this often within a batch. */
const PUBLISH_EVERY = 32;

export class JobRunner {
  readonly block: WorkerBlockView;
  private readonly jobs: JobRingReader;
  private readonly results: ResultRingWriter;
  private readonly header: Int32Array;
  private readonly slots: Int32Array;
  /** The range table (RG_* words per slot), for parallel-for jobs. */
  private readonly ranges: Int32Array;
  private readonly kinds: readonly KindRuntime[];
  private readonly out = new Float64Array(MAX_RESULTS);
  /** The shared arena, where a bundle's jobs keep their parameters, results and outcomes. */
  private readonly arenaF64: Float64Array;
  private readonly arenaU8: Uint8Array;
  private readonly clock = new Float64Array(1);
  /** Other workers' heartbeat/ring words, to wake the ones asleep on queued work. */
  private readonly siblings: readonly Int32Array[];
  private readonly workerIndex: number;
  private readonly heartbeatMs: number;
  /** This worker paces itself to the game's frames (pacing.ts). */
  private readonly lead: boolean;
  /** The header as float64 words: the frame cadence. */
  private readonly hf: Float64Array;
  private readonly slotBits: number;
  private readonly idSalt: number;
  private jobsDone: number;
  private jobsFailed: number;
  /** Whether the job running (or last run) is background-lane work. */
  private background = false;
  /**
   * Told when this thread moves between frame and background work, so the host can lower
   * the thread's priority for background jobs (Node on Linux; see worker-entry.ts).
   */
  onLane: ((background: boolean) => void) | null = null;
  /** This block's trace ring (EngineOptions.trace), or null: one check per job. */
  private readonly trace: TraceRingWriter | null;

  constructor(sab: SharedArrayBuffer, l: Layout, blockIndex: number, workerIndex: number, kinds: readonly KindRuntime[]) {
    this.block = new WorkerBlockView(sab, l, blockIndex);
    this.jobs = new JobRingReader(this.block);
    this.results = new ResultRingWriter(this.block);
    const siblings: Int32Array[] = [];
    for (let i = 0; i < l.workerCount; i++) if (i !== blockIndex) siblings.push(new WorkerBlockView(sab, l, i).i32);
    this.siblings = siblings;
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.hf = new Float64Array(sab, 0, HEADER_BYTES / 8);
    this.lead = blockIndex === LEAD_BLOCK;
    this.slots = new Int32Array(sab, l.slotTable, l.jobSlots);
    this.ranges = new Int32Array(sab, l.rangeTable, l.jobSlots * RANGE_WORDS);
    this.kinds = kinds;
    const arena = arenaViews(sab, l);
    this.arenaF64 = arena.f64;
    this.arenaU8 = arena.u8;
    this.workerIndex = workerIndex;
    this.heartbeatMs = l.heartbeatMs;
    this.slotBits = Math.log2(l.jobSlots);
    this.idSalt = this.header[H_ID_SALT];
    this.trace = l.traceEvents > 0 ? new TraceRingWriter(sab, traceRingOffset(l, 1 + blockIndex), traceWorkerEvents(l.traceEvents), this.block) : null;
    // A respawned worker picks up exactly where its predecessor's published counters are.
    const i32 = this.block.i32;
    this.jobsDone = Atomics.load(i32, W_JOBS_DONE);
    this.jobsFailed = Atomics.load(i32, W_JOBS_FAILED);
  }

  /**
   * Runs up to `max` queued jobs and publishes their results. Returns how many records
   * it consumed (run, expired or skipped). Stops early when the result ring is full:
   * the main thread has to poll before more results fit.
   */
  drain(max: number): number {
    const b = this.block;
    const i32 = b.i32;
    const jobs = this.jobs;
    const results = this.results;
    const mask = jobs.mask;
    const jobI32 = jobs.recI32;
    const jobF64 = jobs.recF64;
    const resI32 = results.recI32;
    const resF64 = results.recF64;
    const slots = this.slots;
    const out = this.out;
    const trace = this.trace;
    const tail = jobs.loadTail();
    let head = jobs.head;
    if (head === tail) return 0;
    Atomics.store(i32, W_STATE, WS_BUSY);
    // ORDERING: BUSY is stored before the scan; the dispatcher relies on us only while it
    // sees us idle, and then this scan sees its tail.
    this.wakeSiblings();
    let consumed = 0;
    let sincePublish = 0;
    // One clock read per job: a job's end is the next job's start. The clock is read
    // through stampAt (into the record, then read back) so no boxed number is made.
    const clock = this.clock;
    stampAt(clock, 0);
    let t0 = clock[0];
    while (head !== tail && consumed < max) {
      if (Atomics.load(i32, W_RETIRE) === 1) break;
      if (results.full()) break;
      const jr = (head & mask) * RECORD_I32;
      const slot = jobI32[jr + J_SLOT];
      const gen = jobI32[jr + J_GEN];
      const queued = (gen << STATE_BITS) | S_QUEUED;
      head = (head + 1) | 0;
      consumed++;
      if ((jobI32[jr + J_KIND] & J_RANGE) !== 0) {
        if (trace !== null) trace.rangeBegin(results.tail);
        // The helper that published the result recorded its share before publishing it.
        if (this.runRange(jr, slot, gen)) this.jobsDone++;
        else if (trace !== null) trace.rangeEnd(jr, jobIdOf(slot, gen, this.slotBits, this.idSalt), results.tail);
        stampAt(clock, 0);
        t0 = clock[0];
        continue;
      }
      // ORDERING: the CAS is the single point where a job is claimed. cancel() and
      // runInline() on the main thread CAS the same word away from QUEUED, so exactly
      // one side wins; a reused slot has a newer generation and never matches.
      if (Atomics.compareExchange(slots, slot, queued, (gen << STATE_BITS) | S_RUNNING) !== queued) continue;
      // While frames are paced the dispatcher counts on the lead to wake its siblings even
      // when it is busy (Dispatcher.someoneAwake), so it looks before each job.
      if (this.lead && this.hf[HF_FRAME_PERIOD] > 0) this.wakeSiblings();
      const kindWord = jobI32[jr + J_KIND];
      const kindId = kindWord & J_KIND_MASK;
      const rt = this.kinds[kindId];
      const background = (kindWord & J_BACKGROUND) !== 0;
      if (background !== this.background) {
        this.background = background;
        if (this.onLane !== null) this.onLane(background);
      }
      const jf = jr >> 1;
      const submitTime = jobF64[jf + JF_SUBMIT_TIME];
      const rr = (results.tail & results.mask) * RECORD_I32;
      const rf = rr >> 1;
      resI32[rr + R_SLOT] = slot;
      resI32[rr + R_GEN] = gen;
      resI32[rr + R_KIND] = kindId;
      resI32[rr + R_TAG] = jobI32[jr + J_TAG];
      resI32[rr + R_ERR_SEQ] = -1;
      resI32[rr + R_WORKER] = this.workerIndex;
      let valueCount = 0;
      let status: number;
      // The frame is read per job, not per batch: a long batch must not run a job whose
      // deadline passed while it waited behind the others.
      if (Atomics.load(this.header, H_CURRENT_FRAME) > jobI32[jr + J_DEADLINE_FRAME]) {
        status = Outcome.Expired;
      } else if ((kindWord & J_BUNDLE) !== 0) {
        i32[W_CUR_SLOT] = slot;
        i32[W_CUR_GEN] = gen;
        // Each of the bundle's jobs has its outcome in the arena; the record says it ran,
        // and how many failed.
        status = Outcome.Done;
        valueCount = this.runBundle(rt, jr, rr, slot, gen);
        i32[W_CUR_SLOT] = -1;
      } else {
        i32[W_CUR_SLOT] = slot;
        i32[W_CUR_GEN] = gen;
        this.prepare(rt, jr, slot, gen);
        const params = rt.params;
        const ctx = rt.ctx;
        ctx.rangeStart = 0;
        ctx.rangeEnd = 1;
        try {
          rt.kind.run(params, out, ctx);
          status = Outcome.Done;
          valueCount = rt.kind.results.length;
          for (let v = 0; v < valueCount; v++) resF64[rf + RF_VALUES + v] = out[v];
        } catch (err) {
          status = Outcome.Failed;
          resI32[rr + R_ERR_SEQ] = writeErrorText(b, err);
          this.jobsFailed++;
        }
        i32[W_CUR_SLOT] = -1;
      }
      stampAt(resF64, rf + RF_FINISH_TIME);
      const t1 = resF64[rf + RF_FINISH_TIME];
      resI32[rr + R_STATUS] = status;
      resI32[rr + R_VALUE_COUNT] = valueCount;
      resF64[rf + RF_RUN_MS] = t1 - t0;
      b.hist[histogramBucket(t1 - submitTime)]++;
      if (trace !== null) trace.job(jr, rr, status, jobIdOf(slot, gen, this.slotBits, this.idSalt), results.tail);
      t0 = t1;
      this.jobsDone++;
      results.push();
      if (Atomics.load(this.header, H_RESULT_WANTED) === 1) wakeResultWaiter(this.header);
      // A beat per job, so hangTimeoutMs bounds one job, not a pass of PUBLISH_EVERY
      // long ones. This thread is the word's only writer and readers only compare it: a
      // plain store is enough.
      i32[W_BEAT] = (i32[W_BEAT] + 1) | 0;
      if (++sincePublish === PUBLISH_EVERY) {
        sincePublish = 0;
        this.publish(head);
      }
    }
    this.publish(head);
    Atomics.store(i32, W_STATE, WS_IDLE);
    return consumed;
  }

  /**
   * A parallel-for helper record: the first helper claims the job (the slot word's
   * QUEUED -> RUNNING), later ones join it while it runs. Each claims chunks of `grain`
   * items from RG_NEXT until none are left, runs them, and counts them in RG_SETTLED; the
   * helper whose chunk settles the last item publishes the job's one result (failed if any
   * chunk threw, with the first error's text). Both words carry the slot generation's low
   * bits, so a helper that arrives after the job ended (and its slot was reused) claims
   * nothing. Returns true if this helper published the result.
   */
  private runRange(jr: number, slot: number, gen: number): boolean {
    const slots = this.slots;
    const queued = (gen << STATE_BITS) | S_QUEUED;
    const running = (gen << STATE_BITS) | S_RUNNING;
    const i32 = this.block.i32;
    // Set before the claim: a parallel-for job has no single worker in the job table, so
    // this word is how main learns that a dead worker was inside it. Set any later, a
    // thread terminated between its claim and opening the range would leave a running
    // job that no helper can advance and no recovery fails.
    i32[W_CUR_SLOT] = slot;
    i32[W_CUR_GEN] = gen;
    // ORDERING: as for any job, the claim is one CAS on the slot word (seq-cst: the words
    // above are visible before it); a joiner only checks that the job it helps is still
    // running in this generation.
    const first = Atomics.compareExchange(slots, slot, queued, running) === queued;
    if (!first && Atomics.load(slots, slot) !== running) {
      i32[W_CUR_SLOT] = -1;
      return false;
    }
    const jobI32 = this.jobs.recI32;
    const kindWord = jobI32[jr + J_KIND];
    const rt = this.kinds[kindWord & J_KIND_MASK];
    const background = (kindWord & J_BACKGROUND) !== 0;
    if (background !== this.background) {
      this.background = background;
      if (this.onLane !== null) this.onLane(background);
    }
    const ranges = this.ranges;
    const rg = slot * RANGE_WORDS;
    const tag = rangeTag(gen);
    // Written by main before it published this record (its release store of the tail).
    const count = ranges[rg + RG_COUNT];
    const grain = ranges[rg + RG_GRAIN];
    if (first) {
      if (count === 0 || Atomics.load(this.header, H_CURRENT_FRAME) > jobI32[jr + J_DEADLINE_FRAME]) {
        // Decided before any chunk ran: nothing to do, or expired. The range stays closed
        // (JobTable.openRange), so a helper that joined meanwhile has claimed nothing.
        this.publishRange(jr, slot, gen, count === 0 ? Outcome.Done : Outcome.Expired, -1, this.workerIndex);
        i32[W_CUR_SLOT] = -1;
        return true;
      }
      // ORDERING: opened only now, after the deadline check: a joiner that saw RUNNING
      // before this store finds nothing to claim and leaves.
      Atomics.store(ranges, rg + RG_NEXT, tag);
    }
    this.prepare(rt, jr, slot, gen);
    const params = rt.params;
    const ctx = rt.ctx;
    const out = this.out;
    let published = false;
    for (;;) {
      let start = -1;
      for (;;) {
        const word = Atomics.load(ranges, rg + RG_NEXT);
        if ((word & ~MAX_RANGE) !== tag || (word & MAX_RANGE) >= count) break;
        const next = (word & MAX_RANGE) + grain > count ? count : (word & MAX_RANGE) + grain;
        if (Atomics.compareExchange(ranges, rg + RG_NEXT, word, tag | next) === word) {
          start = word & MAX_RANGE;
          break;
        }
      }
      if (start < 0) break;
      const end = start + grain > count ? count : start + grain;
      ctx.rangeStart = start;
      ctx.rangeEnd = end;
      try {
        rt.kind.run(params, out, ctx);
      } catch (err) {
        if (Atomics.load(ranges, rg + RG_ERROR) === 0) {
          const seq = writeErrorText(this.block, err);
          // ORDERING: the error's worker is stored before this chunk settles (a seq-cst
          // CAS below), so whoever publishes the result reads it.
          if (Atomics.compareExchange(ranges, rg + RG_ERROR, 0, seq + 1) === 0) ranges[rg + RG_ERROR_WORKER] = this.workerIndex;
          this.jobsFailed++;
        }
      }
      // A heartbeat per chunk: a long range is not a hang.
      Atomics.add(i32, W_BEAT, 1);
      let settled = -1;
      for (;;) {
        const word = Atomics.load(ranges, rg + RG_SETTLED);
        if ((word & ~MAX_RANGE) !== tag) break;
        const now = (word & MAX_RANGE) + (end - start);
        if (Atomics.compareExchange(ranges, rg + RG_SETTLED, word, tag | now) === word) {
          settled = now;
          break;
        }
      }
      if (settled === count) {
        const error = Atomics.load(ranges, rg + RG_ERROR);
        if (error === 0) this.publishRange(jr, slot, gen, Outcome.Done, -1, this.workerIndex);
        else this.publishRange(jr, slot, gen, Outcome.Failed, error - 1, ranges[rg + RG_ERROR_WORKER]);
        published = true;
        break;
      }
    }
    i32[W_CUR_SLOT] = -1;
    return published;
  }

  /**
   * Runs every job of a bundle record in order with the kind's handler: parameters from the
   * bundle's arena slice, results and a Done or Failed byte per job back into it (layout.ts
   * bundleBytes); the first error's text goes to the record. The handler sees the job's
   * index in the bundle as ctx.rangeStart. Returns how many jobs failed.
   */
  private runBundle(rt: KindRuntime, jr: number, rr: number, slot: number, gen: number): number {
    const jobI32 = this.jobs.recI32;
    const count = jobI32[jr + J_BUNDLE_COUNT];
    const off = jobI32[jr + J_ARENA_OFFSET];
    const kind = rt.kind;
    const params = rt.params;
    const n = params.length;
    const m = kind.results.length;
    const f64 = this.arenaF64;
    const u8 = this.arenaU8;
    const out = this.out;
    const i32 = this.block.i32;
    const ctx = rt.ctx;
    ctx.jobId = jobIdOf(slot, gen, this.slotBits, this.idSalt);
    ctx.tag = jobI32[jr + J_TAG];
    ctx.submitFrame = jobI32[jr + J_SUBMIT_FRAME];
    ctx.arenaOffset = -1;
    ctx.arenaBytes = 0;
    let p = off >> 3;
    let r = bundleResultsAt(off, count, n) >> 3;
    const s = bundleStatusAt(off, count, n, m);
    let failed = 0;
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < n; k++) params[k] = f64[p + k];
      p += n;
      ctx.rangeStart = i;
      ctx.rangeEnd = i + 1;
      try {
        kind.run(params, out, ctx);
        for (let v = 0; v < m; v++) f64[r + v] = out[v];
        u8[s + i] = Outcome.Done;
      } catch (err) {
        u8[s + i] = Outcome.Failed;
        if (failed++ === 0) this.results.recI32[rr + R_ERR_SEQ] = writeErrorText(this.block, err);
      }
      r += m;
      // A beat now and then: a long bundle is not a hang.
      if ((i & 255) === 255) i32[W_BEAT] = (i32[W_BEAT] + 1) | 0;
    }
    this.jobsDone += count - 1;
    this.jobsFailed += failed;
    return failed;
  }

  /** Copies the record's params into the kind's buffer and fills its context for this job. */
  private prepare(rt: KindRuntime, jr: number, slot: number, gen: number): void {
    const jobI32 = this.jobs.recI32;
    const jobF64 = this.jobs.recF64;
    const jf = jr >> 1;
    const params = rt.params;
    const n = params.length;
    for (let p = 0; p < n; p++) params[p] = jobF64[jf + JF_PARAMS + p];
    const ctx = rt.ctx;
    ctx.jobId = jobIdOf(slot, gen, this.slotBits, this.idSalt);
    ctx.tag = jobI32[jr + J_TAG];
    ctx.submitFrame = jobI32[jr + J_SUBMIT_FRAME];
    ctx.arenaOffset = jobI32[jr + J_ARENA_OFFSET];
    ctx.arenaBytes = jobI32[jr + J_ARENA_BYTES];
  }

  /** The one result record of a parallel-for job (no inline values; its output is in the arena). */
  private publishRange(jr: number, slot: number, gen: number, status: number, errSeq: number, worker: number): void {
    const results = this.results;
    const jobI32 = this.jobs.recI32;
    const resI32 = results.recI32;
    const resF64 = results.recF64;
    const rr = (results.tail & results.mask) * RECORD_I32;
    const rf = rr >> 1;
    resI32[rr + R_SLOT] = slot;
    resI32[rr + R_GEN] = gen;
    resI32[rr + R_KIND] = jobI32[jr + J_KIND] & J_KIND_MASK;
    resI32[rr + R_TAG] = jobI32[jr + J_TAG];
    resI32[rr + R_ERR_SEQ] = errSeq;
    resI32[rr + R_WORKER] = worker;
    resI32[rr + R_STATUS] = status;
    resI32[rr + R_VALUE_COUNT] = 0;
    stampAt(resF64, rf + RF_FINISH_TIME);
    const t1 = resF64[rf + RF_FINISH_TIME];
    resF64[rf + RF_RUN_MS] = 0;
    this.block.hist[histogramBucket(t1 - this.jobs.recF64[(jr >> 1) + JF_SUBMIT_TIME])]++;
    // The share's trace record (published) before the result: an export made after the
    // result's delivery always holds the share that delivered it.
    if (this.trace !== null) this.trace.rangeEnd(jr, jobIdOf(slot, gen, this.slotBits, this.idSalt), (results.tail + 1) | 0);
    results.push();
    if (Atomics.load(this.header, H_RESULT_WANTED) === 1) wakeResultWaiter(this.header);
  }

  private publish(head: number): void {
    const i32 = this.block.i32;
    Atomics.store(i32, W_JOBS_DONE, this.jobsDone);
    Atomics.store(i32, W_JOBS_FAILED, this.jobsFailed);
    // ORDERING: every result is already published (ResultRingWriter.push); the job head
    // is stored after, so the dispatcher never reuses a job record we are still reading.
    this.jobs.publishHead(head);
    if (this.trace !== null) this.trace.publishCount();
    Atomics.add(i32, W_BEAT, 1);
  }

  /**
   * True when a sibling has jobs it has not taken yet: it is running elsewhere, or waiting
   * for a core (perhaps this one). Read once when this worker runs out of work.
   */
  private siblingsHaveWork(): boolean {
    const sib = this.siblings;
    for (let i = 0; i < sib.length; i++) if (Atomics.load(sib[i], JOB_TAIL_I) !== Atomics.load(sib[i], JOB_HEAD_I)) return true;
    return false;
  }

  /**
   * Wakes sibling workers that sleep on queued work. The dispatcher leaves those wakes to
   * an idle awake worker (Dispatcher.someoneAwake), so this runs on waking, before each
   * batch of jobs and before sleeping. ORDERING: our state store (BUSY or SLEEPING)
   * precedes each scan, and the dispatcher's tail store precedes its look at our state:
   * one of us wakes the sibling.
   */
  private wakeSiblings(): void {
    const sib = this.siblings;
    for (let i = 0; i < sib.length; i++) {
      const s = sib[i];
      if (Atomics.load(s, W_SLEEPING) === 1 && Atomics.load(s, JOB_TAIL_I) !== Atomics.load(s, JOB_HEAD_I)) Atomics.notify(s, JOB_TAIL_I, 1);
    }
  }

  /**
   * The worker thread's loop: drain, spin briefly, then sleep in Atomics.wait on the
   * job tail with a heartbeat-period timeout (each wake is a heartbeat). Returns when
   * the engine is stopping. Worker threads only: the main thread must never wait.
   */
  runForever(): void {
    const i32 = this.block.i32;
    const header = this.header;
    let lastWork = sharedNow();
    let spinChecked = false;
    Atomics.store(i32, W_STATE, WS_IDLE);
    for (;;) {
      if (Atomics.load(header, H_ENGINE_STATE) === ENGINE_STOPPING || Atomics.load(i32, W_RETIRE) === 1) break;
      if (this.drain(256) > 0) {
        lastWork = sharedNow();
        spinChecked = false;
        continue;
      }
      // With more workers than cores, a sibling with work may be waiting for this very
      // core (Linux runs a SCHED_BATCH thread's whole slice before the next): spinning
      // for our next job would spend that core on nothing, so we sleep at once.
      if (!spinChecked) {
        spinChecked = true;
        if (SPIN_MS > 0 && this.siblingsHaveWork()) lastWork = -Infinity;
      }
      if (sharedNow() - lastWork < SPIN_MS) continue;
      Atomics.store(i32, W_STATE, WS_IDLE);
      let sleepMs = this.heartbeatMs;
      if (this.lead) {
        const until = untilFrameWindow(this.hf, sharedNow());
        if (until === 0 && this.jobs.loadTail() === this.jobs.head) {
          // Dozing (pacing.ts): SLEEPING stays 0, so to every other thread we are awake
          // and idle and nobody notifies us; we look at our ring after each short wait,
          // and at our siblings' before it, as an idle worker does before each sleep.
          this.wakeSiblings();
          Atomics.wait(i32, JOB_TAIL_I, this.jobs.head, DOZE_MS);
          continue;
        }
        if (until < sleepMs) sleepMs = until;
      }
      // ORDERING: SLEEPING is stored (seq-cst) before we re-read the tail; the dispatcher
      // stores the tail before it reads SLEEPING. Either we see its new tail and do not
      // sleep, or it sees SLEEPING = 1 and notifies; and Atomics.wait itself returns at
      // once if the tail no longer equals the value we pass, so no wake-up is lost.
      Atomics.store(i32, W_SLEEPING, 1);
      this.wakeSiblings();
      const tail = this.jobs.loadTail();
      if (tail === this.jobs.head && Atomics.load(header, H_ENGINE_STATE) !== ENGINE_STOPPING) {
        Atomics.wait(i32, JOB_TAIL_I, tail, sleepMs);
      } else if (tail !== this.jobs.head && this.results.full()) {
        // Jobs are waiting but the result ring is full: wait for the main thread to poll.
        Atomics.wait(i32, RES_HEAD_I, this.results.headSeen, this.heartbeatMs);
      }
      Atomics.store(i32, W_SLEEPING, 0);
      Atomics.add(i32, W_BEAT, 1);
      this.wakeSiblings();
      lastWork = sharedNow();
      spinChecked = false;
    }
    Atomics.store(i32, W_STATE, WS_STOPPED);
  }
}
