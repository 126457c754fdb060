/**
 * A second reference line between the bare ring (bare-ring.ts) and the engine: the bare
 * ring plus what the tiny-job target says must not be given up, and nothing else. Each
 * submit reads its inputs once and checks them (kind, two numbers, not NaN, an int32 tag;
 * a getter that throws is a refusal), takes a job slot with a new generation, returns a
 * job id; the worker claims the slot word by CAS, as the engine's workers do; each result
 * is checked against the slot's generation, counted, and handed to the caller's callback
 * in a reused view, with the slot released in a `finally` whatever the callback does.
 * No deadlines, frames, arena slices, lanes, ranges, dependencies, cost estimates,
 * admission, several workers, take-over or trace. `npm run bench` measures it in the same
 * run as the engine: the gap between the two is what those features cost per tiny job.
 */
import { Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../engine/paths.js';
import { yieldToEventLoop } from '../game/time.js';

/** Control words (int32 indices), each on a cache line of its own. */
export const CHECKED = {
  JOB_TAIL: 0,
  RES_TAIL: 32,
  STOP: 64,
  CONTROL_BYTES: 320,
} as const;

/** Float64 words per job record: slot and generation (two int32s), then the two params. */
export const JOB_F64 = 3;
/** Float64 words per result record: slot and generation, then the value. */
export const RES_F64 = 2;
/** Slot word states, below the generation bits, as in the engine's slot table. */
export const SLOT_QUEUED = 1;
export const SLOT_RUNNING = 2;
export const STATE_BITS = 3;
const GEN_MASK = 0xfffff;

export interface CheckedInit {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
}

/** Byte offsets of the three regions after the control words. */
export function checkedLayout(capacity: number): { jobs: number; results: number; slots: number; bytes: number } {
  const jobs = CHECKED.CONTROL_BYTES;
  const results = jobs + capacity * JOB_F64 * 8;
  const slots = results + capacity * RES_F64 * 8;
  return { jobs, results, slots, bytes: slots + capacity * 4 };
}

/** The view a result callback gets; reused, as the engine's is. */
export interface CheckedView {
  jobId: number;
  tag: number;
  value: number;
}

/** Refusal codes, negative like the engine's. */
export const CHECKED_REFUSAL = { FULL: -1, BAD_KIND: -2, BAD_PARAMS: -3 } as const;
const { FULL, BAD_KIND, BAD_PARAMS } = CHECKED_REFUSAL;
/** Job records written before the tail is published. */
const PUBLISH_BATCH = 16;

/** The typed views of a checked ring's buffer; each thread's end extends them. */
class CheckedViews {
  protected readonly ctl: Int32Array;
  protected readonly jobF64: Float64Array;
  protected readonly jobI32: Int32Array;
  protected readonly resF64: Float64Array;
  protected readonly resI32: Int32Array;
  protected readonly words: Int32Array;
  protected readonly capacity: number;
  protected readonly mask: number;

  constructor(sab: SharedArrayBuffer, capacity: number) {
    const l = checkedLayout(capacity);
    this.ctl = new Int32Array(sab, 0, CHECKED.CONTROL_BYTES / 4);
    this.jobF64 = new Float64Array(sab, l.jobs, capacity * JOB_F64);
    this.jobI32 = new Int32Array(sab, l.jobs, capacity * JOB_F64 * 2);
    this.resF64 = new Float64Array(sab, l.results, capacity * RES_F64);
    this.resI32 = new Int32Array(sab, l.results, capacity * RES_F64 * 2);
    this.words = new Int32Array(sab, l.slots, capacity);
    this.capacity = capacity;
    this.mask = capacity - 1;
  }
}

/**
 * The worker's end: claims each job's slot word by CAS (QUEUED -> RUNNING, as the engine's
 * workers do, so a job runs at most once), writes the sum with the slot and generation to
 * the result ring, publishes each batch.
 */
export class CheckedServer extends CheckedViews {
  private head = 0;
  private resTail = 0;

  get stopped(): boolean {
    return Atomics.load(this.ctl, CHECKED.STOP) !== 0;
  }

  /** Runs every job published so far; returns how many records it took. */
  serve(): number {
    // ORDERING: acquire load of the job tail; the main thread stored it after the records.
    const tail = Atomics.load(this.ctl, CHECKED.JOB_TAIL);
    const jobF64 = this.jobF64;
    const jobI32 = this.jobI32;
    const resI32 = this.resI32;
    const words = this.words;
    let head = this.head;
    let resTail = this.resTail;
    let n = 0;
    while (head !== tail) {
      const j = (head & this.mask) * JOB_F64;
      const slot = jobI32[j * 2];
      const gen = jobI32[j * 2 + 1];
      head = (head + 1) | 0;
      n++;
      const queued = (gen << STATE_BITS) | SLOT_QUEUED;
      if (Atomics.compareExchange(words, slot, queued, (gen << STATE_BITS) | SLOT_RUNNING) !== queued) continue;
      // There is always room: main never has more jobs out than the result ring holds.
      const r = (resTail & this.mask) * RES_F64;
      resI32[r * 2] = slot;
      resI32[r * 2 + 1] = gen;
      this.resF64[r + 1] = jobF64[j + 1] + jobF64[j + 2];
      resTail = (resTail + 1) | 0;
    }
    this.head = head;
    this.resTail = resTail;
    // ORDERING: results before their tail. (Main reuses a job record only after its
    // result came back, so no head is published.)
    if (n > 0) Atomics.store(this.ctl, CHECKED.RES_TAIL, resTail);
    return n;
  }
}

/** The main thread's end: submit and poll. Main thread only. */
export class CheckedRing extends CheckedViews {
  submitted = 0;
  rejected = 0;
  inFlight = 0;
  completed = 0;
  stale = 0;
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  private readonly tags: Int32Array;
  private readonly read = new Float64Array(2);
  private readonly slotBits: number;
  private tail = 0;
  private published = 0;
  private resHead = 0;
  private readonly view: CheckedView = { jobId: 0, tag: 0, value: 0 };

  constructor(sab: SharedArrayBuffer, capacity: number) {
    super(sab, capacity);
    this.slotBits = Math.log2(capacity);
    this.freeSlots = Int32Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
    this.freeCount = capacity;
    this.tags = new Int32Array(capacity);
  }

  /** One job of kind 0 (the sum of two numbers); its id, or a negative refusal code. */
  submit(kind: number, params: ArrayLike<number>, tag: number): number {
    this.submitted++;
    if (typeof kind !== 'number' || kind !== 0) return this.refuse(BAD_KIND);
    const rd = this.read;
    try {
      if (params == null || params.length !== 2) return this.refuse(BAD_PARAMS);
      const a = params[0];
      const b = params[1];
      if (typeof a !== 'number' || typeof b !== 'number' || a !== a || b !== b) return this.refuse(BAD_PARAMS);
      rd[0] = a;
      rd[1] = b;
    } catch {
      return this.refuse(BAD_PARAMS);
    }
    if (typeof tag !== 'number' || (tag | 0) !== tag) return this.refuse(BAD_PARAMS);
    // The ring and the slots have one capacity, so a free slot means a free record.
    if (this.freeCount === 0) return this.refuse(FULL);
    const slot = this.freeSlots[--this.freeCount];
    const gen = ((this.words[slot] >>> STATE_BITS) + 1) & GEN_MASK;
    this.words[slot] = (gen << STATE_BITS) | SLOT_QUEUED;
    this.tags[slot] = tag;
    const j = (this.tail & this.mask) * JOB_F64;
    this.jobI32[j * 2] = slot;
    this.jobI32[j * 2 + 1] = gen;
    this.jobF64[j + 1] = rd[0];
    this.jobF64[j + 2] = rd[1];
    this.tail = (this.tail + 1) | 0;
    // ORDERING: release store of the tail after the records, as the engine publishes.
    if (((this.tail - this.published) | 0) >= PUBLISH_BATCH) this.publish();
    this.inFlight++;
    return (gen << this.slotBits) | slot;
  }

  /** Publishes what is written, then hands every published result to `onResult`. */
  poll(onResult: (v: CheckedView) => void): number {
    if (this.published !== this.tail) this.publish();
    const tail = Atomics.load(this.ctl, CHECKED.RES_TAIL);
    const view = this.view;
    const resI32 = this.resI32;
    const words = this.words;
    let head = this.resHead;
    let n = 0;
    while (head !== tail) {
      const r = (head & this.mask) * RES_F64;
      head = (head + 1) | 0;
      const slot = resI32[r * 2];
      const gen = resI32[r * 2 + 1];
      if (!(slot >= 0 && slot < this.capacity) || words[slot] !== ((gen << STATE_BITS) | SLOT_RUNNING)) {
        this.stale++;
        continue;
      }
      view.jobId = (gen << this.slotBits) | slot;
      view.tag = this.tags[slot];
      view.value = this.resF64[r + 1];
      this.completed++;
      this.inFlight--;
      n++;
      // Consumed before the callback runs: one that throws never sees it twice.
      this.resHead = head;
      try {
        onResult(view);
      } finally {
        words[slot] = gen << STATE_BITS;
        this.freeSlots[this.freeCount++] = slot;
      }
    }
    this.resHead = head;
    return n;
  }

  private publish(): void {
    this.published = this.tail;
    Atomics.store(this.ctl, CHECKED.JOB_TAIL, this.tail);
  }

  private refuse(code: number): number {
    this.rejected++;
    return code;
  }
}

/**
 * Runs the checked ring for `seconds` with the engine throughput run's loop (batches of
 * up to 1,024 submits, a poll between batches); checks every sum and that the books add up.
 */
export async function checkedRingThroughput(seconds: number, capacity = 16384): Promise<{ jobs: number; perSecond: number }> {
  const sab = new SharedArrayBuffer(checkedLayout(capacity).bytes);
  const ring = new CheckedRing(sab, capacity);
  const worker = new Worker(builtModuleUrl(import.meta.url, './checked-ring-worker.js'), { workerData: { sab, capacity } satisfies CheckedInit });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', () => resolve());
    worker.once('error', reject);
  });
  try {
    const p = new Float64Array(2);
    // Running sums in a typed array: a double in a closure variable is a new heap number
    // per job, garbage the engine's run does not make either.
    const sums = new Float64Array(2);
    let done = 0;
    const sink = (v: CheckedView): void => {
      done++;
      sums[0] += v.value;
    };
    let submitted = 0;
    const drive = async (ms: number): Promise<number> => {
      const start = performance.now();
      const end = start + ms;
      const from = done;
      let spins = 0;
      while (performance.now() < end) {
        for (let b = 0; b < 1024; b++) {
          // Inputs stay small so the sums stay exact.
          p[0] = submitted & 0xffff;
          p[1] = 1;
          if (ring.submit(0, p, b) < 0) break;
          sums[1] += (submitted & 0xffff) + 1;
          submitted++;
        }
        ring.poll(sink);
        if ((++spins & 1023) === 0) await yieldToEventLoop();
      }
      while (done < submitted) ring.poll(sink);
      return ((done - from) * 1000) / (performance.now() - start);
    };
    await drive(300);
    const perSecond = await drive(seconds * 1000);
    if (sums[0] !== sums[1] || ring.stale !== 0 || ring.completed !== submitted || ring.inFlight !== 0 || ring.submitted - ring.rejected !== submitted) {
      throw new Error('checked ring returned wrong sums or its books do not add up');
    }
    return { jobs: done, perSecond };
  } finally {
    Atomics.store(new Int32Array(sab, 0, CHECKED.CONTROL_BYTES / 4), CHECKED.STOP, 1);
    await worker.terminate();
  }
}
