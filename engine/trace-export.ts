/**
 * Turns the trace rings (trace-ring.ts) into Chrome trace event JSON, the format Perfetto
 * (ui.perfetto.dev) and chrome://tracing open:
 *
 *   pid 1 "framejobs"     tid 1 "main thread": a slice per frame (beginFrame to beginFrame),
 *                           inside it poll slices, submit slices (the jobs that share one
 *                           clock stamp), runInline slices, delivery slices outside a poll,
 *                           refusal instants; counters sampled at every beginFrame
 *                         tid 2 + i "worker i": a slice per job it ran (name: the kind),
 *                           an instant per job it expired instead
 *                         tid 2 "inline runner" with workers: 0 (jobs run inside poll)
 *   flows (ph s/t/f, id = job id): submit (main) -> run (worker or main) -> delivery (main)
 *
 * Timestamps are microseconds from the first event exported, with nanosecond digits
 * (otherData.clock_origin_ms is the shared clock's reading at 0). Every slice lasts at
 * least MIN_NS, and on one track a slice never starts before the one before it ended:
 * events recorded at the same clock reading (a browser's clock ticks in 5 us steps) are
 * laid end to end. A flow event sits in the middle of the slice it binds to, so a viewer
 * binds it to that slice whatever its binding rule (enclosing slice, `bp: "e"`).
 *
 * Main thread; allocates freely (this is the export, never the hot path).
 */
import { EngineError, shownValue } from './errors.js';
import { traceRingOffset, traceWorkerEvents, type Layout } from './layout.js';
import { Outcome, outcomeName, rejectionName } from './outcome.js';
import {
  EFLAG_OUTCOME_MASK,
  EFLAG_OUTCOME_SHIFT,
  KIND_SHIFT,
  TF_END,
  TF_SUBMIT,
  TF_TIME,
  TFLAG_BACKGROUND,
  TFLAG_EXPIRED,
  TFLAG_FAILED,
  TFLAG_NO_RESULT,
  TFLAG_RANGE,
  TI_DEADLINE,
  TI_ID,
  TI_POS,
  TI_SUBMIT_FRAME,
  TI_TYPE,
  TI_X,
  TRACE_RECORD_F64,
  TRACE_RECORD_I32,
  TYPE_MASK,
  TraceType,
  readTraceRing,
  type TraceRecords,
} from './trace-ring.js';
import { NO_DEADLINE } from './layout.js';

/** One event of the Chrome trace event format (the fields this exporter uses). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 't' | 'f' | 'C' | 'M';
  /** Microseconds. */
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  /** Microseconds; complete events ('X') only. */
  dur?: number;
  /** Flow id (the job id), flow events only. */
  id?: number;
  /** Binding point: 'e', the enclosing slice (flow ends). */
  bp?: 'e';
  /** Instant scope: 't', the thread. */
  s?: 't';
  args?: Record<string, unknown>;
}

/** What engine.exportTrace() writes: the JSON object form of the format. */
export interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number>;
}

/** Options of traceEvents() and exportTrace(). */
export interface TraceExportOptions {
  /** Only the last this many seconds (of the newest event). Default: everything the rings hold. */
  seconds?: number;
}

/** The rings' contents at one moment. */
export interface TraceSnapshot {
  readonly main: TraceRecords;
  /** One per worker block (with workers: 0, the inline runner's). */
  readonly workers: readonly TraceRecords[];
  readonly workerCount: number;
  readonly kindNames: readonly string[];
}

export const TRACE_PID = 1;
export const MAIN_TID = 1;
export const workerTid = (i: number): number => 2 + i;
/** Shortest slice, ns: room for a flow event strictly inside it, whatever a viewer's rounding. */
export const MIN_NS = 4;

/** Copies every trace ring out of the buffer. */
export function snapshotTrace(sab: SharedArrayBuffer, layout: Layout, kindNames: readonly string[]): TraceSnapshot {
  const workers: TraceRecords[] = [];
  const blocks = Math.max(1, layout.workerCount);
  for (let i = 0; i < blocks; i++) workers.push(readTraceRing(sab, traceRingOffset(layout, 1 + i), traceWorkerEvents(layout.traceEvents)));
  return { main: readTraceRing(sab, traceRingOffset(layout, 0), layout.traceEvents), workers, workerCount: layout.workerCount, kindNames };
}

interface FlowPoint {
  ts: number;
  tid: number;
}

/** Laid-out slices of one track: each starts at or after the cursor and lasts at least MIN_NS. */
class Track {
  cursor = -Infinity;
  place(startNs: number, endNs: number): [number, number] {
    const s = startNs > this.cursor ? startNs : this.cursor;
    const e = endNs > s + MIN_NS ? endNs : s + MIN_NS;
    this.cursor = e;
    return [s, e];
  }
}

const us = (ns: number): number => ns / 1000;
const mid = (s: number, e: number): number => Math.floor((s + e) / 2);

/** Builds the trace events from a snapshot. */
export function buildTraceEvents(snap: TraceSnapshot, options: TraceExportOptions = {}): { events: TraceEvent[]; originMs: number } {
  const kindName = (k: number): string => snap.kindNames[k] ?? `kind ${k}`;
  const deadlineArg = (d: number): number | null => (d === NO_DEADLINE ? null : d);
  const main = snap.main;
  const typeOf = (ring: TraceRecords, k: number): number => ring.i32[k * TRACE_RECORD_I32 + TI_TYPE] & TYPE_MASK;
  const f64At = (ring: TraceRecords, k: number, field: number): number => ring.f64[k * TRACE_RECORD_F64 + field]!;
  const i32At = (ring: TraceRecords, k: number, field: number): number => ring.i32[k * TRACE_RECORD_I32 + field]!;

  let first = Infinity;
  let last = -Infinity;
  for (const ring of [main, ...snap.workers]) {
    for (let k = 0; k < ring.count; k++) {
      const t = f64At(ring, k, TF_TIME);
      if (t < first) first = t;
      if (t > last) last = t;
    }
  }
  if (first === Infinity) first = last = 0;
  const seconds = options.seconds;
  const cutoff = seconds !== undefined && seconds > 0 && Number.isFinite(seconds) ? last - seconds * 1000 : -Infinity;
  const origin = cutoff > first ? cutoff : first;
  // Nanoseconds from the origin, rounded once, so equal clock readings stay equal.
  const ns = (t: number): number => Math.round((t - origin) * 1e6);
  // A submit from before the main ring's oldest event is outside the window the main track
  // shows: its flow starts at the run instead.
  const submitFloor = Math.max(cutoff, main.count > 0 ? f64At(main, 0, TF_TIME) : Infinity);

  // Frame boundaries (beginFrame times), for `late`: a job is late when it ended in a frame
  // after its deadline frame. Outcomes decided on the main thread, by job id.
  const frameTimes: number[] = [];
  const frameIds: number[] = [];
  const mainEnded = new Set<number>();
  const inlineIds = new Set<number>();
  for (let k = 0; k < main.count; k++) {
    const type = typeOf(main, k);
    if (type === TraceType.Frame) {
      frameTimes.push(f64At(main, k, TF_TIME));
      frameIds.push(i32At(main, k, TI_ID));
    } else if (type === TraceType.End) mainEnded.add(i32At(main, k, TI_ID));
    else if (type === TraceType.Inline) inlineIds.add(i32At(main, k, TI_ID));
  }
  /** The frame at time t, or null before the first frame boundary the ring holds. */
  const frameAt = (t: number): number | null => {
    let lo = 0;
    let hi = frameTimes.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (frameTimes[m]! <= t) lo = m + 1;
      else hi = m;
    }
    return lo === 0 ? null : frameIds[lo - 1]!;
  };
  const lateAt = (t: number, deadline: number): boolean | null => {
    if (deadline === NO_DEADLINE) return false;
    const f = frameAt(t);
    return f === null ? null : f > deadline;
  };

  const events: TraceEvent[] = [];
  /** Sort key within equal timestamps: containers before what they contain. */
  const depth: number[] = [];
  const push = (e: TraceEvent, d: number): void => {
    events.push(e);
    depth.push(d);
  };
  const flows = new Map<number, FlowPoint[]>();
  const point = (id: number, ts: number, tid: number): void => {
    let list = flows.get(id);
    if (list === undefined) flows.set(id, (list = []));
    list.push({ ts, tid });
  };
  const submits: { time: number; id: number; kind: number }[] = [];
  const submitted = new Set<number>();
  const submit = (time: number, id: number, kind: number): void => {
    if (time < submitFloor || submitted.has(id)) return;
    submitted.add(id);
    submits.push({ time, id, kind });
  };

  push({ name: 'process_name', ph: 'M', ts: 0, pid: TRACE_PID, tid: MAIN_TID, args: { name: 'framejobs' } }, -1);
  push({ name: 'thread_name', ph: 'M', ts: 0, pid: TRACE_PID, tid: MAIN_TID, args: { name: 'main thread' } }, -1);
  push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: TRACE_PID, tid: MAIN_TID, args: { sort_index: 0 } }, -1);

  // Worker tracks (or the inline runner's). Each job record also says which result-ring
  // position its result went to, for matching with the main ring's drains.
  const byPosition = snap.workers.map(() => new Map<number, number>());
  snap.workers.forEach((ring, w) => {
    const tid = workerTid(w);
    const inline = snap.workerCount === 0;
    push({ name: 'thread_name', ph: 'M', ts: 0, pid: TRACE_PID, tid, args: { name: inline ? 'inline runner (workers: 0)' : `worker ${w}` } }, -1);
    push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: TRACE_PID, tid, args: { sort_index: 1 + w } }, -1);
    const track = new Track();
    for (let k = 0; k < ring.count; k++) {
      const word = i32At(ring, k, TI_TYPE);
      if ((word & TYPE_MASK) !== TraceType.Job) continue;
      const start = f64At(ring, k, TF_TIME);
      if (start < cutoff) continue;
      const end = f64At(ring, k, TF_END);
      const kind = word >>> KIND_SHIFT;
      const id = i32At(ring, k, TI_ID);
      const deadline = i32At(ring, k, TI_DEADLINE);
      if ((word & TFLAG_NO_RESULT) === 0) byPosition[w]!.set(i32At(ring, k, TI_POS), id);
      submit(f64At(ring, k, TF_SUBMIT), id, kind);
      const args = {
        job: id,
        submit_frame: i32At(ring, k, TI_SUBMIT_FRAME),
        deadline_frame: deadlineArg(deadline),
        late: lateAt(end, deadline),
        inline: inline,
        worker: inline ? -1 : w,
        lane: (word & TFLAG_BACKGROUND) !== 0 ? 'background' : 'frame',
        ...((word & TFLAG_RANGE) !== 0 ? { parallel_for: true, published: (word & TFLAG_NO_RESULT) === 0 } : {}),
      };
      const [s, e] = track.place(ns(start), ns(end));
      if ((word & TFLAG_EXPIRED) !== 0) {
        push({ name: `expired ${kindName(kind)}`, cat: 'job', ph: 'i', s: 't', ts: us(s), pid: TRACE_PID, tid, args: { ...args, status: 'expired' } }, 1);
        continue;
      }
      const status = (word & TFLAG_NO_RESULT) !== 0 ? 'chunks run' : (word & TFLAG_FAILED) !== 0 ? 'failed' : 'done';
      push({ name: kindName(kind), cat: 'job', ph: 'X', ts: us(s), dur: us(e - s), pid: TRACE_PID, tid, args: { ...args, status } }, 1);
      point(id, mid(s, e), tid);
    }
  });
  for (let k = 0; k < main.count; k++) {
    const type = typeOf(main, k);
    if ((type === TraceType.End || type === TraceType.Inline) && f64At(main, k, TF_TIME) >= cutoff) {
      submit(f64At(main, k, TF_SUBMIT), i32At(main, k, TI_ID), i32At(main, k, TI_TYPE) >>> KIND_SHIFT);
    }
  }
  submits.sort((a, b) => a.time - b.time);

  // The main thread's track: frames, and inside them polls, submits, runInline, refusals.
  const track = new Track();
  let frame: { start: number; n: number } | null = null;
  /** Where the last frame slice ended: the next one starts no earlier. */
  let frameFloor = -Infinity;
  let currentFrame: number | null = null;
  let poll: { start: number; points: number[]; depth: number } | null = null;
  let group: { start: number; end: number; time: number; ids: number[]; kinds: Set<number> } | null = null;
  const inPollDepth = (): number => (poll === null ? 1 : 2);
  const closeGroup = (): void => {
    if (group === null) return;
    const g = group;
    group = null;
    const kinds = [...g.kinds].map(kindName);
    push(
      {
        name: g.ids.length === 1 ? `submit ${kinds[0]}` : `submit x${g.ids.length}`,
        cat: 'engine',
        ph: 'X',
        ts: us(g.start),
        dur: us(g.end - g.start),
        pid: TRACE_PID,
        tid: MAIN_TID,
        args: { jobs: g.ids.length, kinds, first_job: g.ids[0], last_job: g.ids[g.ids.length - 1] },
      },
      inPollDepth(),
    );
    const m = mid(g.start, g.end);
    for (const id of g.ids) point(id, m, MAIN_TID);
  };
  let nextSubmit = 0;
  /** Places every submit made at or before `time`: jobs stamped alike share one slice. */
  const submitsUpTo = (time: number): void => {
    for (; nextSubmit < submits.length && submits[nextSubmit]!.time <= time; nextSubmit++) {
      const sub = submits[nextSubmit]!;
      if (group !== null && group.time !== sub.time) closeGroup();
      if (group === null) {
        const t = ns(sub.time);
        const [s, e] = track.place(t, t);
        group = { start: s, end: e, time: sub.time, ids: [], kinds: new Set() };
      }
      group.ids.push(sub.id);
      group.kinds.add(sub.kind);
    }
  };
  const closeFrame = (endNs: number): void => {
    if (frame === null) return;
    const e = Math.max(endNs, track.cursor, frame.start + MIN_NS);
    push({ name: `frame ${frame.n}`, cat: 'frame', ph: 'X', ts: us(frame.start), dur: us(e - frame.start), pid: TRACE_PID, tid: MAIN_TID, args: { frame: frame.n } }, 0);
    frame = null;
    frameFloor = e;
    if (track.cursor < e) track.cursor = e;
  };
  const closePoll = (endNs: number): void => {
    if (poll === null) return;
    const p = poll;
    poll = null;
    const e = Math.max(endNs, track.cursor, p.start + MIN_NS);
    track.cursor = e;
    push({ name: 'poll', cat: 'engine', ph: 'X', ts: us(p.start), dur: us(e - p.start), pid: TRACE_PID, tid: MAIN_TID, args: { delivered: p.points.length } }, p.depth);
    const m = mid(p.start, e);
    for (const id of p.points) point(id, m, MAIN_TID);
  };
  /** A delivery outside any poll the ring still holds: a slice of its own. */
  const deliverySlice = (t: number, name: string, args: Record<string, unknown>): number => {
    const [s, e] = track.place(t, t);
    push({ name, cat: 'engine', ph: 'X', ts: us(s), dur: us(e - s), pid: TRACE_PID, tid: MAIN_TID, args }, inPollDepth());
    return mid(s, e);
  };

  for (let k = 0; k < main.count; k++) {
    const type = typeOf(main, k);
    const word = i32At(main, k, TI_TYPE);
    const time = f64At(main, k, TF_TIME);
    if (time < cutoff) continue;
    submitsUpTo(time);
    closeGroup();
    const t = ns(time);
    const kind = word >>> KIND_SHIFT;
    const id = i32At(main, k, TI_ID);
    switch (type) {
      case TraceType.Frame: {
        closePoll(t);
        closeFrame(t);
        const start = Math.max(t, track.cursor, frameFloor);
        track.cursor = start;
        frame = { start, n: id };
        currentFrame = id;
        const c = (name: string, args: Record<string, number>): void => {
          push({ name, cat: 'counter', ph: 'C', ts: us(start), pid: TRACE_PID, tid: MAIN_TID, args }, 3);
        };
        c('job rings', { queued: i32At(main, k, TI_POS) });
        c('result rings', { waiting: i32At(main, k, TI_X) });
        c('in flight', { jobs: i32At(main, k, TI_DEADLINE) });
        c('refused per frame', { refused: i32At(main, k, TI_SUBMIT_FRAME) });
        break;
      }
      case TraceType.Reject: {
        const s = Math.max(t, track.cursor);
        const unrecorded = i32At(main, k, TI_SUBMIT_FRAME);
        const reason = rejectionName(id);
        push(
          { name: `refused ${reason}`, cat: 'engine', ph: 'i', s: 't', ts: us(s), pid: TRACE_PID, tid: MAIN_TID, args: { reason, ...(unrecorded > 0 ? { refused_before_unrecorded: unrecorded } : {}) } },
          inPollDepth(),
        );
        break;
      }
      case TraceType.PollBegin: {
        closePoll(t);
        const s = Math.max(t, track.cursor);
        track.cursor = s;
        poll = { start: s, points: [], depth: 1 };
        break;
      }
      case TraceType.PollEnd:
        closePoll(t);
        break;
      case TraceType.Drain: {
        // The results at positions [from, to) of worker `id`'s result ring, delivered now.
        const positions = byPosition[id];
        if (positions === undefined) break;
        const from = i32At(main, k, TI_SUBMIT_FRAME);
        const n = (i32At(main, k, TI_DEADLINE) - from) | 0;
        const delivered: number[] = [];
        for (let j = 0; j < n; j++) {
          const job = positions.get((from + j) | 0);
          // A job whose outcome main decided (runInline took it over) was delivered there.
          if (job !== undefined && !mainEnded.has(job)) delivered.push(job);
        }
        if (poll !== null) poll.points.push(...delivered);
        else if (delivered.length > 0) {
          const m = deliverySlice(t, `deliver x${delivered.length}`, { worker: id, delivered: delivered.length, frame: currentFrame });
          for (const job of delivered) point(job, m, MAIN_TID);
        }
        break;
      }
      case TraceType.Inline: {
        const end = f64At(main, k, TF_END);
        const deadline = i32At(main, k, TI_DEADLINE);
        const [s, e] = track.place(t, ns(end));
        push(
          {
            name: kindName(kind),
            cat: 'job',
            ph: 'X',
            ts: us(s),
            dur: us(e - s),
            pid: TRACE_PID,
            tid: MAIN_TID,
            args: {
              job: id,
              submit_frame: i32At(main, k, TI_SUBMIT_FRAME),
              deadline_frame: deadlineArg(deadline),
              late: lateAt(end, deadline),
              inline: true,
              worker: -1,
              status: (word & TFLAG_FAILED) !== 0 ? 'failed' : 'done',
            },
          },
          inPollDepth(),
        );
        point(id, mid(s, e), MAIN_TID);
        break;
      }
      case TraceType.End: {
        if (poll !== null) {
          poll.points.push(id);
          break;
        }
        // Outside a poll (cancel, runInline, shutdown): a delivery slice of its own.
        const outcome = outcomeName(((word & EFLAG_OUTCOME_MASK) >> EFLAG_OUTCOME_SHIFT) as Outcome);
        const deadline = i32At(main, k, TI_DEADLINE);
        const m = deliverySlice(t, `${outcome} ${kindName(kind)}`, {
          job: id,
          outcome,
          submit_frame: i32At(main, k, TI_SUBMIT_FRAME),
          deadline_frame: deadlineArg(deadline),
          frame: currentFrame,
          late: lateAt(time, deadline),
          run_inline: inlineIds.has(id),
        });
        point(id, m, MAIN_TID);
        break;
      }
    }
  }
  submitsUpTo(Infinity);
  closeGroup();
  closePoll(track.cursor);
  closeFrame(track.cursor);

  // Flows: every job's points in time order, s ... t ... f; a job seen at one point only has none.
  for (const [id, list] of flows) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.ts - b.ts);
    list.forEach((p, i) => {
      const ph = i === 0 ? 's' : i === list.length - 1 ? 'f' : 't';
      const e: TraceEvent = { name: 'job', cat: 'flow', ph, id, ts: us(p.ts), pid: TRACE_PID, tid: p.tid };
      if (ph === 'f') e.bp = 'e';
      push(e, 4);
    });
  }

  // Time order, containers first at equal times: viewers that stream the file (Perfetto)
  // then see each slice open before what it contains and before the flows bound to it.
  const order = events.map((_, i) => i);
  order.sort((a, b) => events[a]!.ts - events[b]!.ts || depth[a]! - depth[b]! || a - b);
  return { events: order.map((i) => events[i]!), originMs: origin };
}

/** The whole file, as exportTrace() returns it. */
export function traceFile(snap: TraceSnapshot, options: TraceExportOptions = {}): TraceFile {
  const { events, originMs } = buildTraceEvents(snap, options);
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { producer: 'framejobs', clock_origin_ms: originMs, workers: snap.workerCount },
  };
}

/**
 * The trace rings as they are now, for an export; throws TRACE_OFF when the engine records
 * no timeline.
 */
export function traceSnapshotOf(
  recorder: { publish(): void } | null,
  sab: SharedArrayBuffer,
  layout: Layout,
  kinds: readonly { readonly name: string }[],
): TraceSnapshot {
  if (recorder === null) throw new EngineError('TRACE_OFF', 'the job timeline is off: start the engine with EngineOptions.trace (for example trace: true)');
  recorder.publish();
  return snapshotTrace(sab, layout, kinds.map((k) => k.name));
}

/**
 * The export options, each read once into a fresh object (a getter asked twice could
 * answer differently). Throws EngineError('INVALID_ARGUMENT') for options that are not an
 * object, a read that throws, or seconds that is not a positive number.
 */
export function readTraceExportOptions(options: unknown): TraceExportOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new EngineError('INVALID_ARGUMENT', `trace export options must be an object, got ${shownValue(options)}`);
  let s: unknown;
  try {
    s = (options as TraceExportOptions).seconds;
  } catch {
    throw new EngineError('INVALID_ARGUMENT', 'reading the trace export options threw');
  }
  if (s !== undefined && !(typeof s === 'number' && s > 0)) throw new EngineError('INVALID_ARGUMENT', `options.seconds must be a positive number, got ${shownValue(s)}`);
  return s === undefined ? {} : { seconds: s };
}
