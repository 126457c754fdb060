/**
 * Shared-memory layout of one engine: a single SharedArrayBuffer, sized once at start.
 *
 * Ring design: one SPSC job ring and one SPSC result ring per worker, with the main
 * thread as dispatcher. Every head/tail word has exactly one writer, so no CAS is
 * needed on the ring indices and the steady state costs one release store per
 * publish. A bounded MPMC ring (per-slot sequence numbers) would balance load by
 * itself, but every claim would then be a contended CAS across all workers, and a
 * crashed consumer could leave a claimed-but-unread slot behind. With per-worker
 * rings, the dispatcher balances by picking the least-loaded live worker, and a dead
 * worker's queued records can be moved elsewhere safely because nobody else reads
 * them. Cancellation and take-over go through the job-slot table: a worker claims a
 * job with CAS(QUEUED -> RUNNING) on the slot's state word, and the word carries the
 * slot's generation, so a cancelled, taken-over or reused slot is skipped, never run
 * twice, and a stale record is recognised as such.
 *
 *   offset (bytes)                     contents                                   writer
 *   0                                  HEADER (256 B, int32 words, H_* below)
 *     H_MAGIC .. H_HEARTBEAT_MS        layout description                         main, once
 *     H_ENGINE_STATE                   RUNNING / STOPPING                         main
 *     H_CURRENT_FRAME                  the game's frame, for deadline checks      main
 *     H_ID_SALT                        this engine's job-id salt                  main, once
 *     HF_FRAME_AT, HF_FRAME_PERIOD     (float64 words, byte 128) frame cadence    main
 *     H_RESULT_WANTED, H_RESULT_SEQ    whenResults: main waits, the next result   main / workers
 *       (byte 192, a line of their own)  wakes it
 *   SLOT_TABLE = 256                   jobSlots x int32: (generation << 3) | state
 *                                        QUEUED/FREE/TAKEN/CANCELLED/WAITING      main
 *                                        QUEUED -> RUNNING                        worker (CAS)
 *   RANGES = align64(256 + 4*slots)    jobSlots x 32 B, one per slot, for parallel-for jobs (RG_*):
 *     RG_NEXT    (gen << 20) | next item to claim                             main, then workers (CAS)
 *     RG_SETTLED (gen << 20) | items run (or failed)                          main, then workers (CAS)
 *     RG_COUNT, RG_GRAIN                                                      main
 *     RG_ERROR   1 + error seq of the first chunk that threw, 0: none         workers (CAS)
 *     RG_ERROR_WORKER  whose error slots hold that text                       worker
 *   WORKERS = align64(RANGES + 32*slots)  workerCount blocks of workerBlockBytes(ringCapacity):
 *     +0     W_*  heartbeat words      beat, state, current slot/gen, counters    worker
 *                 W_EPOCH, W_RETIRE     respawn count; stop-now flag              main
 *     +64    JOB_HEAD                  next job record the worker will read      worker
 *     +128   JOB_TAIL                  one past the last published job record    main
 *     +192   RES_HEAD                  next result record main will read         main
 *     +256   RES_TAIL                  one past the last published result        worker
 *     +320   HISTOGRAM 32 x int32      latency, log2 buckets of microseconds      worker
 *     +448   W_SLEEPING                asleep in Atomics.wait (0/1), on a line     worker
 *                                        of its own: main reads it on every submit
 *                                        that might wake a worker, and the words at
 *                                        +0 change with every job
 *     +512   ERROR TEXT  ERR_SLOTS x ERR_SLOT_BYTES (uint16: seq lo, seq hi, len, chars) worker
 *     +512+ERR_BYTES   JOB RECORDS     ringCapacity x 128 B                       main
 *     ...   RESULT RECORDS             ringCapacity x 128 B                       worker
 *   ARENA = after the last worker block, arenaBytes, 8-aligned            the job's owner
 *   TRACE = align64(arena end), only with EngineOptions.trace (H_TRACE_EVENTS > 0):
 *     ring 0                           main thread's events, H_TRACE_EVENTS x 48 B     main
 *     ring 1 + i                       worker block i's jobs, H_TRACE_EVENTS x 48 B     worker i
 *     each ring: 64 B control (int32 0: events published, free-running) then its records;
 *     the record formats are in trace-ring.ts
 *
 * Head and tail words sit 64 bytes apart so the two sides never share a cache line.
 *
 * Job record (128 B; int32 view J_*, float64 view JF_*):
 *   i32 0 kind (| J_BACKGROUND | J_RANGE) | 1 slot | 2 generation | 3 tag | 4 submit frame | 5 deadline frame
 *   i32 6 arena offset | 7 arena bytes | f64 4 submit time (ms) | f64 5..15 params
 * Result record (128 B; R_*, RF_*):
 *   i32 0 slot | 1 generation | 2 kind | 3 status | 4 tag | 5 error seq (-1: none)
 *   i32 6 value count | 7 worker | f64 4 finish time (ms) | f64 5 run ms | f64 6..15 values
 */
import { EngineError } from './errors.js';
import { MAX_PARAMS, MAX_RESULTS } from './kind.js';

export const MAGIC = 0x464a4231; // 'FJB1'
export const LAYOUT_VERSION = 6;

export const HEADER_BYTES = 256;
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_TOTAL_BYTES = 2;
export const H_WORKER_COUNT = 3;
export const H_RING_CAPACITY = 4;
export const H_JOB_SLOTS = 5;
export const H_SLOT_TABLE = 6;
export const H_WORKERS_OFFSET = 7;
export const H_WORKER_BLOCK_BYTES = 8;
export const H_ARENA_OFFSET = 9;
export const H_ARENA_BYTES = 10;
export const H_HEARTBEAT_MS = 11;
export const H_ENGINE_STATE = 12;
export const H_CURRENT_FRAME = 13;
/** Mixed into the generation bits of this engine's job ids (JobTable). */
export const H_ID_SALT = 14;
/** Byte offset of the trace rings, and each ring's capacity in events (0: tracing off). */
export const H_TRACE_OFFSET = 15;
export const H_TRACE_EVENTS = 16;
/**
 * The frame cadence (pacing.ts), as float64 words of the header: when beginFrame last ran
 * (epoch ms) and the smoothed time between frames (ms; 0: no steady cadence). Byte 128, a
 * cache line of their own: main writes them once a frame, the lead worker reads them
 * before each sleep, and the period before each job.
 */
export const HF_FRAME_AT = 16;
export const HF_FRAME_PERIOD = 17;
/**
 * EngineCore.whenResults (result-wait.ts): main sets H_RESULT_WANTED to 1 and awaits a
 * change of H_RESULT_SEQ; the first worker to publish a result then clears the one and
 * bumps the other. Byte 192, a cache line of their own: workers read H_RESULT_WANTED
 * after every result, and it changes only when main starts waiting.
 */
export const H_RESULT_WANTED = 48;
export const H_RESULT_SEQ = 49;

export const ENGINE_RUNNING = 1;
export const ENGINE_STOPPING = 2;

/** Slot states, in the low 3 bits of a slot-table word; the generation is the rest. */
export const S_FREE = 0;
export const S_QUEUED = 1;
export const S_RUNNING = 2;
export const S_CANCELLED = 3;
export const S_TAKEN = 4;
/** Accepted and held by main in no ring: waiting for prerequisites, or for room in its lane. */
export const S_WAITING = 5;
export const STATE_BITS = 3;
export const STATE_MASK = 7;
/** Generations wrap at 2^28 so that (gen << 3) stays a positive int32. */
export const GEN_MASK = 0x0fffffff;

// Worker block: heartbeat words (int32 index within the block).
export const W_BEAT = 0;
export const W_STATE = 1;
export const W_CUR_SLOT = 2;
export const W_CUR_GEN = 3;
export const W_JOBS_DONE = 4;
export const W_JOBS_FAILED = 5;
/** Int32 index of the sleeping flag: byte 448 of the block, a cache line of its own (see the map). */
export const W_SLEEPING = 448 / 4;
export const W_EPOCH = 7;
export const W_ERR_SEQ = 8;
/** Set by main when it retires the worker: stop at the next job boundary. */
export const W_RETIRE = 9;

export const WS_STARTING = 0;
export const WS_IDLE = 1;
export const WS_BUSY = 2;
export const WS_STOPPED = 3;

// Worker block: byte offsets.
export const WB_JOB_HEAD = 64;
export const WB_JOB_TAIL = 128;
export const WB_RES_HEAD = 192;
export const WB_RES_TAIL = 256;
export const WB_HISTOGRAM = 320;
export const HIST_BUCKETS = 32;
export const WB_ERRORS = 512;
export const ERR_SLOTS = 8;
export const ERR_SLOT_BYTES = 4096;
export const ERR_HEADER_U16 = 3;
export const ERR_MAX_CHARS = ERR_SLOT_BYTES / 2 - ERR_HEADER_U16;
export const WB_RECORDS = WB_ERRORS + ERR_SLOTS * ERR_SLOT_BYTES;

export const RECORD_BYTES = 128;
export const RECORD_I32 = RECORD_BYTES / 4;
export const RECORD_F64 = RECORD_BYTES / 8;

export const J_KIND = 0;
/** The job-record kind word carries the lane above the kind id: background jobs have this bit. */
export const J_KIND_MASK = 0xffff;
export const J_BACKGROUND = 1 << 16;
/** A helper record of a parallel-for job: run chunks of its range (RG_* words of its slot). */
export const J_RANGE = 1 << 17;
/**
 * A bundle record: many jobs of one kind under one slot, their parameters, results and
 * per-job outcomes in the bundle's arena slice (bundleBytes); its job count is at
 * J_BUNDLE_COUNT, where a plain record's parameters start.
 */
export const J_BUNDLE = 1 << 18;

/** Range table words per slot (32 bytes). */
export const RANGE_WORDS = 8;
export const RG_NEXT = 0;
export const RG_SETTLED = 1;
export const RG_COUNT = 2;
export const RG_GRAIN = 3;
export const RG_ERROR = 4;
export const RG_ERROR_WORKER = 5;
/** RG_NEXT and RG_SETTLED keep the low bits of the slot's generation above a 20-bit count. */
export const RANGE_BITS = 20;
/** Most items in one parallel-for range. */
export const MAX_RANGE = (1 << RANGE_BITS) - 1;
/** The generation tag of RG_NEXT / RG_SETTLED for generation `gen`. */
export const rangeTag = (gen: number): number => (gen & 0x7ff) << RANGE_BITS;
export const J_SLOT = 1;
export const J_GEN = 2;
export const J_TAG = 3;
export const J_SUBMIT_FRAME = 4;
export const J_DEADLINE_FRAME = 5;
export const J_ARENA_OFFSET = 6;
export const J_ARENA_BYTES = 7;
export const JF_SUBMIT_TIME = 4;
export const JF_PARAMS = 5;
/** Int32 index of a bundle record's job count (the first parameter's place in a plain record). */
export const J_BUNDLE_COUNT = JF_PARAMS * 2;
/** Most jobs in one bundle (EngineCore.submitBundle). */
export const MAX_BUNDLE = 65536;
/**
 * Where a bundle of `count` jobs keeps its data in its arena slice at `offset`: the jobs'
 * parameters (`n` each), then their results (`m` each), as float64; then one outcome
 * byte per job. Offsets in bytes.
 */
export const bundleResultsAt = (offset: number, count: number, n: number): number => offset + count * n * 8;
export const bundleStatusAt = (offset: number, count: number, n: number, m: number): number => offset + count * (n + m) * 8;
export const bundleBytes = (count: number, n: number, m: number): number => count * (n + m) * 8 + count;

export const R_SLOT = 0;
export const R_GEN = 1;
export const R_KIND = 2;
export const R_STATUS = 3;
export const R_TAG = 4;
export const R_ERR_SEQ = 5;
export const R_VALUE_COUNT = 6;
export const R_WORKER = 7;
export const RF_FINISH_TIME = 4;
export const RF_RUN_MS = 5;
export const RF_VALUES = 6;

/** Deadline frame meaning "none". */
export const NO_DEADLINE = 0x7fffffff;

/**
 * Job ids: the slot in the low bits, the low bits of the slot's generation above it,
 * 30 bits in all so an id is always a small integer (no boxed number per job). With
 * slots handed out in turn (job-table.ts), an id comes back only after about 2^30 more
 * jobs have been submitted. The generation is XORed with the engine's salt (H_ID_SALT),
 * so the same slot and generation in two engines give different ids.
 */
export const jobIdOf = (slot: number, gen: number, slotBits: number, salt: number): number =>
  (((gen ^ salt) & ((1 << (30 - slotBits)) - 1)) << slotBits) | slot;

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const align = (n: number, a: number): number => Math.ceil(n / a) * a;

export const workerBlockBytes = (ringCapacity: number): number => WB_RECORDS + 2 * ringCapacity * RECORD_BYTES;

export interface LayoutSpec {
  readonly workerCount: number;
  readonly ringCapacity: number;
  readonly jobSlots: number;
  readonly arenaBytes: number;
  readonly heartbeatMs: number;
  /** Events per trace ring, a power of two; 0 or absent: no trace rings. */
  readonly traceEvents?: number;
}

export interface Layout extends LayoutSpec {
  readonly slotTable: number;
  readonly rangeTable: number;
  readonly workersOffset: number;
  readonly workerBlockBytes: number;
  readonly arenaOffset: number;
  /** Byte offset of the trace rings (TRACE_* below), = totalBytes when tracing is off. */
  readonly traceOffset: number;
  readonly traceEvents: number;
  readonly totalBytes: number;
}

/** Trace rings: a 64-byte control block (int32 0 counts the events written) before each ring's records. */
export const TRACE_CONTROL_BYTES = 64;
export const TRACE_RECORD_BYTES = 48;
/** Fewest and most events a trace ring holds. */
export const TRACE_MIN_EVENTS = 64;
export const TRACE_MAX_EVENTS = 1 << 20;
/** Events per worker ring: as many as the main ring's (EngineOptions.trace.events). */
export const traceWorkerEvents = (traceEvents: number): number => traceEvents;
export const traceRingBytes = (events: number): number => TRACE_CONTROL_BYTES + events * TRACE_RECORD_BYTES;
/** Byte offset of trace ring `ring` (0 main, 1 + i worker block i) within the buffer. */
export const traceRingOffset = (l: Layout, ring: number): number =>
  ring === 0 ? l.traceOffset : l.traceOffset + traceRingBytes(l.traceEvents) + (ring - 1) * traceRingBytes(traceWorkerEvents(l.traceEvents));

/** Sizing, separate from viewing: how many bytes an engine with this spec needs. */
export function computeLayout(spec: LayoutSpec): Layout {
  if (!isPowerOfTwo(spec.ringCapacity)) throw new EngineError('INVALID_OPTION', `ringCapacity must be a power of two, got ${spec.ringCapacity}`);
  if (!isPowerOfTwo(spec.jobSlots)) throw new EngineError('INVALID_OPTION', `jobCapacity must be a power of two, got ${spec.jobSlots}`);
  if (spec.jobSlots > 1 << 20) throw new EngineError('INVALID_OPTION', `jobCapacity must be at most ${1 << 20}, got ${spec.jobSlots}`);
  if (spec.arenaBytes % 8 !== 0 || spec.arenaBytes < 0) throw new EngineError('INVALID_OPTION', `arenaBytes must be a non-negative multiple of 8, got ${spec.arenaBytes}`);
  const slotTable = HEADER_BYTES;
  const rangeTable = align(slotTable + 4 * spec.jobSlots, 64);
  const workersOffset = align(rangeTable + RANGE_WORDS * 4 * spec.jobSlots, 64);
  const blockBytes = workerBlockBytes(spec.ringCapacity);
  const arenaOffset = align(workersOffset + Math.max(1, spec.workerCount) * blockBytes, 64);
  const traceEvents = spec.traceEvents ?? 0;
  if (traceEvents !== 0 && (!isPowerOfTwo(traceEvents) || traceEvents < TRACE_MIN_EVENTS || traceEvents > TRACE_MAX_EVENTS)) {
    throw new EngineError('INVALID_OPTION', `trace.events must be a power of two in [${TRACE_MIN_EVENTS}, ${TRACE_MAX_EVENTS}], got ${traceEvents}`);
  }
  const traceOffset = traceEvents === 0 ? arenaOffset + spec.arenaBytes : align(arenaOffset + spec.arenaBytes, 64);
  const traceBytes = traceEvents === 0 ? 0 : traceRingBytes(traceEvents) + Math.max(1, spec.workerCount) * traceRingBytes(traceWorkerEvents(traceEvents));
  const totalBytes = traceEvents === 0 ? arenaOffset + spec.arenaBytes : traceOffset + traceBytes;
  // Offsets and the size are kept in int32 header words.
  if (totalBytes > 0x7fffffff) {
    throw new EngineError('INVALID_OPTION', `the engine's shared buffer would take ${totalBytes} bytes, more than ${0x7fffffff}: fewer workers, or smaller arenaBytes, ringCapacity or trace.events`);
  }
  return { ...spec, slotTable, rangeTable, workersOffset, workerBlockBytes: blockBytes, arenaOffset, traceOffset, traceEvents, totalBytes };
}

/** Writes the header of a freshly allocated buffer. Main thread, once. */
export function writeHeader(sab: SharedArrayBuffer, l: Layout, idSalt = 0): void {
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  h[H_VERSION] = LAYOUT_VERSION;
  h[H_TOTAL_BYTES] = l.totalBytes;
  h[H_WORKER_COUNT] = l.workerCount;
  h[H_RING_CAPACITY] = l.ringCapacity;
  h[H_JOB_SLOTS] = l.jobSlots;
  h[H_SLOT_TABLE] = l.slotTable;
  h[H_WORKERS_OFFSET] = l.workersOffset;
  h[H_WORKER_BLOCK_BYTES] = l.workerBlockBytes;
  h[H_ARENA_OFFSET] = l.arenaOffset;
  h[H_ARENA_BYTES] = l.arenaBytes;
  h[H_HEARTBEAT_MS] = l.heartbeatMs;
  h[H_ENGINE_STATE] = ENGINE_RUNNING;
  h[H_CURRENT_FRAME] = 0;
  h[H_ID_SALT] = idSalt;
  h[H_TRACE_OFFSET] = l.traceOffset;
  h[H_TRACE_EVENTS] = l.traceEvents;
  // ORDERING: the magic is stored last, so a reader that sees it sees a complete header.
  Atomics.store(h, H_MAGIC, MAGIC);
}

/**
 * Reads and checks the header of a buffer someone handed us. A worker given a buffer
 * with another layout refuses to start instead of misreading it.
 */
export function readHeader(sab: SharedArrayBuffer): Layout {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < HEADER_BYTES) {
    throw new EngineError('LAYOUT_MISMATCH', 'engine buffer is missing or smaller than its header');
  }
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const magic = Atomics.load(h, H_MAGIC);
  if (magic !== MAGIC) throw new EngineError('LAYOUT_MISMATCH', `engine buffer has magic 0x${(magic >>> 0).toString(16)}, expected 0x${MAGIC.toString(16)}`);
  if (h[H_VERSION] !== LAYOUT_VERSION) throw new EngineError('LAYOUT_MISMATCH', `engine buffer has layout version ${h[H_VERSION]}, this worker speaks ${LAYOUT_VERSION}`);
  const l = computeLayout({
    workerCount: h[H_WORKER_COUNT],
    ringCapacity: h[H_RING_CAPACITY],
    jobSlots: h[H_JOB_SLOTS],
    arenaBytes: h[H_ARENA_BYTES],
    heartbeatMs: h[H_HEARTBEAT_MS],
    traceEvents: h[H_TRACE_EVENTS],
  });
  if (
    l.totalBytes !== h[H_TOTAL_BYTES] ||
    l.totalBytes !== sab.byteLength ||
    l.arenaOffset !== h[H_ARENA_OFFSET] ||
    l.workersOffset !== h[H_WORKERS_OFFSET] ||
    l.traceOffset !== h[H_TRACE_OFFSET]
  ) {
    throw new EngineError('LAYOUT_MISMATCH', 'engine buffer header does not describe this buffer');
  }
  return l;
}

/** Views over one worker's block, shared by the worker loop and the dispatcher. */
export class WorkerBlockView {
  readonly i32: Int32Array;
  readonly base: number;
  readonly jobI32: Int32Array;
  readonly jobF64: Float64Array;
  readonly resI32: Int32Array;
  readonly resF64: Float64Array;
  readonly hist: Int32Array;
  readonly errU16: Uint16Array;
  readonly mask: number;
  readonly capacity: number;
  constructor(sab: SharedArrayBuffer, l: Layout, index: number) {
    this.base = l.workersOffset + index * l.workerBlockBytes;
    this.i32 = new Int32Array(sab, this.base, WB_RECORDS / 4);
    const jobs = this.base + WB_RECORDS;
    const results = jobs + l.ringCapacity * RECORD_BYTES;
    this.jobI32 = new Int32Array(sab, jobs, l.ringCapacity * RECORD_I32);
    this.jobF64 = new Float64Array(sab, jobs, l.ringCapacity * RECORD_F64);
    this.resI32 = new Int32Array(sab, results, l.ringCapacity * RECORD_I32);
    this.resF64 = new Float64Array(sab, results, l.ringCapacity * RECORD_F64);
    this.hist = new Int32Array(sab, this.base + WB_HISTOGRAM, HIST_BUCKETS);
    this.errU16 = new Uint16Array(sab, this.base + WB_ERRORS, (ERR_SLOTS * ERR_SLOT_BYTES) / 2);
    this.capacity = l.ringCapacity;
    this.mask = l.ringCapacity - 1;
  }
}

/** Int32 index of a head/tail word inside WorkerBlockView.i32. */
export const JOB_HEAD_I = WB_JOB_HEAD / 4;
export const JOB_TAIL_I = WB_JOB_TAIL / 4;
export const RES_HEAD_I = WB_RES_HEAD / 4;
export const RES_TAIL_I = WB_RES_TAIL / 4;

export const histogramBucket = (latencyMs: number): number => {
  const us = latencyMs <= 0 ? 0 : Math.min(0x7fffffff, Math.floor(latencyMs * 1000));
  const b = 32 - Math.clz32(us);
  return b >= HIST_BUCKETS ? HIST_BUCKETS - 1 : b;
};
/** Upper bound in microseconds of histogram bucket b (bucket 0 holds 0 us). */
export const histogramBoundUs = (b: number): number => (b === 0 ? 0 : 2 ** b - 1);

// Layout claims, checked once at load: records hold their declared fields, the ring
// control words are cache-line separated, and the float64 views are aligned.
function assertLayout(): void {
  const ok =
    JF_PARAMS + MAX_PARAMS <= RECORD_F64 &&
    RF_VALUES + MAX_RESULTS <= RECORD_F64 &&
    J_ARENA_BYTES < JF_SUBMIT_TIME * 2 &&
    R_WORKER < RF_FINISH_TIME * 2 &&
    WB_JOB_TAIL - WB_JOB_HEAD >= 64 &&
    WB_RES_TAIL - WB_RES_HEAD >= 64 &&
    WB_HISTOGRAM + HIST_BUCKETS * 4 <= WB_ERRORS &&
    WB_RECORDS % 64 === 0 &&
    RECORD_BYTES % 64 === 0 &&
    HEADER_BYTES % 64 === 0 &&
    H_TRACE_EVENTS * 4 < HEADER_BYTES &&
    H_TRACE_EVENTS * 4 < HF_FRAME_AT * 8 &&
    HF_FRAME_PERIOD * 8 + 8 <= H_RESULT_WANTED * 4 &&
    TRACE_CONTROL_BYTES % 64 === 0 &&
    TRACE_RECORD_BYTES % 8 === 0 &&
    W_RETIRE * 4 < WB_JOB_HEAD &&
    W_SLEEPING * 4 >= WB_HISTOGRAM + HIST_BUCKETS * 4 &&
    W_SLEEPING * 4 + 64 <= WB_ERRORS &&
    (GEN_MASK << STATE_BITS) > 0;
  if (!ok) throw new EngineError('LAYOUT_MISMATCH', 'engine layout constants are inconsistent');
}
assertLayout();

/** Typed views over the whole arena; a job owns the bytes of its slice while it runs. */
export interface ArenaViews {
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
}

export function arenaViews(sab: SharedArrayBuffer, l: Layout): ArenaViews {
  return {
    u8: new Uint8Array(sab, l.arenaOffset, l.arenaBytes),
    i32: new Int32Array(sab, l.arenaOffset, l.arenaBytes >> 2),
    f32: new Float32Array(sab, l.arenaOffset, l.arenaBytes >> 2),
    f64: new Float64Array(sab, l.arenaOffset, l.arenaBytes >> 3),
  };
}
