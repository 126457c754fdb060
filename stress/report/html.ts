/**
 * `--html FILE`: the report as one self-contained page. Charts are inline SVG drawn
 * here (latency histogram, throughput and queue depth over time), styles are inline,
 * and nothing is fetched, so the file can be mailed or attached to a CI run as is.
 */
import type { GradeReport } from './grade.js';
import { renderReport, PLAIN } from './text.js';
import type { Histogram, StressResult } from './result.js';
import { FRAME_MS } from '../../game/time.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const W = 720;
const H = 240;
const M = { l: 64, r: 16, t: 28, b: 40 };

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmtTick = (v: number): string =>
  v >= 1e6 ? `${(v / 1e6).toFixed(v % 1e6 === 0 ? 0 : 1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(v % 1e3 === 0 ? 0 : 1)}k` : String(+v.toFixed(2));

function frame(title: string, yMax: number, yLabel: string, body: string, xTicks: string): string {
  const ih = H - M.t - M.b;
  let ticks = '';
  for (let i = 0; i <= 4; i++) {
    const y = M.t + ih - (i / 4) * ih;
    ticks += `<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`;
    ticks += `<text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${fmtTick((yMax * i) / 4)}</text>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<style>text{font:11px system-ui,sans-serif;fill:#374151}</style>
<text x="${M.l}" y="16" style="font-weight:600;font-size:13px">${esc(title)}</text>
<text x="12" y="${M.t + ih / 2}" transform="rotate(-90 12 ${M.t + ih / 2})" text-anchor="middle">${esc(yLabel)}</text>
${ticks}${body}${xTicks}
<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${M.t + ih}" stroke="#9ca3af"/><line x1="${M.l}" x2="${W - M.r}" y1="${M.t + ih}" y2="${M.t + ih}" stroke="#9ca3af"/>
</svg>`;
}

/** Bars over the non-empty range of log2 buckets; the 2-frame budget drawn as a line. */
export function histogramSvg(h: Histogram, title = 'Latency histogram (completed jobs)'): string {
  let lo = h.counts.findIndex((c) => c > 0);
  let hi = h.counts.length - 1;
  while (hi > 0 && h.counts[hi] === 0) hi--;
  if (lo < 0) {
    lo = 0;
    hi = 0;
  }
  // Keep the 2-frame budget in view so the reader sees where the distribution sits against it.
  const budgetBucket = h.boundsMs.findIndex((b) => b >= 2 * FRAME_MS);
  hi = Math.max(hi, Math.min(budgetBucket + 1, h.counts.length - 1));
  lo = Math.min(lo, Math.max(0, budgetBucket - 8));
  const n = hi - lo + 1;
  const yMax = niceMax(Math.max(...h.counts.slice(lo, hi + 1)));
  const iw = W - M.l - M.r;
  const ih = H - M.t - M.b;
  const bw = iw / n;
  let body = '';
  let xt = '';
  for (let i = 0; i < n; i++) {
    const c = h.counts[lo + i];
    const bh = (c / yMax) * ih;
    const x = M.l + i * bw;
    const upper = h.boundsMs[lo + i];
    const over = upper > 2 * FRAME_MS;
    body += `<rect x="${(x + 1).toFixed(1)}" y="${(M.t + ih - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${over ? '#dc2626' : '#2563eb'}"><title>≤ ${Number.isFinite(upper) ? upper.toPrecision(3) : '∞'} ms: ${c}</title></rect>`;
    if (i % Math.ceil(n / 10) === 0) {
      const label = Number.isFinite(upper) ? (upper >= 1 ? upper.toFixed(0) : upper.toPrecision(2)) : '∞';
      xt += `<text x="${(x + bw / 2).toFixed(1)}" y="${H - M.b + 14}" text-anchor="middle">≤${label}</text>`;
    }
  }
  xt += `<text x="${M.l + iw / 2}" y="${H - 6}" text-anchor="middle">latency, ms (log2 buckets; red: over the 2-frame budget of ${(2 * FRAME_MS).toFixed(1)} ms)</text>`;
  return frame(title, yMax, 'jobs', body, xt);
}

/** A line over time. */
export function seriesSvg(title: string, yLabel: string, tMs: readonly number[], ys: readonly number[], color: string): string {
  const iw = W - M.l - M.r;
  const ih = H - M.t - M.b;
  const tMax = tMs.length > 0 ? Math.max(tMs[tMs.length - 1], 1) : 1;
  const yMax = niceMax(ys.length > 0 ? Math.max(...ys) : 0);
  const pts = tMs.map((t, i) => `${(M.l + (t / tMax) * iw).toFixed(1)},${(M.t + ih - (ys[i] / yMax) * ih).toFixed(1)}`).join(' ');
  const body = pts.length > 0 ? `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts}"/>` : '';
  let xt = '';
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    xt += `<text x="${(M.l + (i / 5) * iw).toFixed(1)}" y="${H - M.b + 14}" text-anchor="middle">${(t / 1000).toFixed(1)}</text>`;
  }
  xt += `<text x="${M.l + iw / 2}" y="${H - 6}" text-anchor="middle">time, s</text>`;
  return frame(title, yMax, yLabel, body, xt);
}

export function renderHtml(r: StressResult, g: GradeReport, peers: readonly StressResult[] = []): string {
  const text = renderReport(r, g, PLAIN, peers);
  const gradeColor = g.grade === 'A' || g.grade === 'B' ? '#15803d' : g.grade === 'F' ? '#b91c1c' : '#b45309';
  const charts = [
    histogramSvg(r.histogram),
    seriesSvg('Throughput over time', 'jobs/s', r.samples.tMs, r.samples.throughput, '#059669'),
    seriesSvg('Queue depth over time (accepted, not yet received)', 'jobs', r.samples.tMs, r.samples.queueDepth, '#7c3aed'),
  ];
  for (const peer of peers) {
    charts.push(histogramSvg(peer.histogram, `Latency histogram: ${peer.engine}, same workload, same run`));
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(r.engine)} stress ${esc(r.mode)}: grade ${g.grade}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px auto;max-width:780px;color:#111827}
h1{font-size:20px}.grade{display:inline-block;padding:2px 12px;border-radius:6px;color:#fff;background:${gradeColor}}
pre{background:#f9fafb;border:1px solid #e5e7eb;padding:12px;overflow-x:auto;font-size:11px;white-space:pre-wrap}
figure{margin:16px 0}
</style></head><body>
<h1>${esc(r.engine)} stress test: ${esc(r.mode)} <span class="grade">${g.grade}</span> ${esc(g.status)}</h1>
${charts.map((c) => `<figure>${c}</figure>`).join('\n')}
<h2>Report</h2>
<pre>${esc(text)}</pre>
</body></html>
`;
}
