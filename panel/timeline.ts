/**
 * The panel's job timeline: the last second of the engine's trace (engine.traceEvents),
 * one row per thread (the page's main thread, then each worker), a box per job coloured by
 * kind, frame boundaries as ticks; and the "Download trace" file (engine.exportTrace) for
 * Perfetto or chrome://tracing.
 *
 * Browser only; allocates (it runs a few times a second, never per job).
 */
import type { EngineCore } from '../engine/core.js';

/** The window shown, s. */
export const TIMELINE_SECONDS = 1;
const ROW_H = 18;
const LABEL_W = 78;
const PALETTE = ['#4aa3ff', '#3ecf6e', '#f2b134', '#c77dff', '#ff7aa2', '#5fd4d0', '#d59a4a', '#9aa7ff'];

/** Draws the last TIMELINE_SECONDS of `engine`'s trace on `canvas`; returns the job boxes drawn. */
export function drawTimeline(canvas: HTMLCanvasElement, engine: EngineCore): number {
  const ctx = canvas.getContext('2d');
  if (!ctx) return 0;
  const events = engine.traceEvents({ seconds: TIMELINE_SECONDS });
  const tids = new Map<number, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') tids.set(e.tid, String((e.args as { name: string }).name));
  const rows = [...tids.keys()].sort((a, b) => a - b);
  const rowOf = new Map(rows.map((t, i) => [t, i]));
  const h = Math.max(ROW_H * rows.length + 14, 40);
  if (canvas.height !== h) canvas.height = h;
  const w = canvas.width;
  ctx.clearRect(0, 0, w, h);
  ctx.font = '11px sans-serif';
  const span = TIMELINE_SECONDS * 1e6;
  let end = 0;
  for (const e of events) end = Math.max(end, e.ts + (e.dur ?? 0));
  const start = Math.max(0, end - span);
  const x = (us: number): number => LABEL_W + ((us - start) / span) * (w - LABEL_W - 2);
  rows.forEach((tid, i) => {
    ctx.fillStyle = i % 2 === 0 ? '#141920' : '#171c23';
    ctx.fillRect(0, i * ROW_H, w, ROW_H);
    ctx.fillStyle = '#8b95a3';
    ctx.fillText(tids.get(tid) ?? `thread ${tid}`, 4, i * ROW_H + 13);
  });
  const kindColour = new Map<string, string>();
  const colourOf = (name: string): string => {
    let c = kindColour.get(name);
    if (c === undefined) kindColour.set(name, (c = PALETTE[kindColour.size % PALETTE.length]!));
    return c;
  };
  let boxes = 0;
  for (const e of events) {
    if (e.ph !== 'X' && e.ph !== 'i') continue;
    const row = rowOf.get(e.tid);
    if (row === undefined || e.ts + (e.dur ?? 0) < start) continue;
    const y = row * ROW_H;
    if (e.cat === 'frame') {
      ctx.fillStyle = '#2a313b';
      ctx.fillRect(Math.floor(x(e.ts)), 0, 1, h - 12);
    } else if (e.cat === 'job' && e.ph === 'X') {
      ctx.fillStyle = (e.args as { late?: boolean } | undefined)?.late === true ? '#f0524f' : colourOf(e.name);
      ctx.fillRect(x(e.ts), y + 3, Math.max(1, x(e.ts + (e.dur ?? 0)) - x(e.ts)), ROW_H - 6);
      boxes++;
    } else if (e.cat === 'engine' && e.ph === 'X' && e.name === 'poll') {
      ctx.fillStyle = '#8b95a3';
      ctx.fillRect(x(e.ts), y + 6, Math.max(1, x(e.ts + (e.dur ?? 0)) - x(e.ts)), ROW_H - 12);
    } else if (e.ph === 'i') {
      ctx.fillStyle = '#f0524f';
      ctx.fillRect(Math.floor(x(e.ts)), y + 2, 1, ROW_H - 4);
    }
  }
  ctx.fillStyle = '#8b95a3';
  ctx.fillText(`last ${TIMELINE_SECONDS} s · grey ticks: frames · red: late or expired`, LABEL_W, h - 2);
  return boxes;
}

/** Offers the whole trace as a file download (framejobs-trace.json). */
export function downloadTrace(engine: EngineCore): void {
  const blob = new Blob([engine.exportTrace()], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = 'framejobs-trace.json';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference by now; free ours after the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
