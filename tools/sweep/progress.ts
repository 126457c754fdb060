/**
 * Progress for a long sweep: one bar redrawn in place on a terminal, plain lines (at
 * most one a second, and one at the end) when the stream is a pipe or a file.
 */
export interface ProgressStream {
  write(s: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const clock = (s: number): string => {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return (h > 0 ? `${h}:${String(m).padStart(2, '0')}` : String(m)) + ':' + String(sec).padStart(2, '0');
};

export class ProgressReporter {
  private readonly out: ProgressStream;
  private readonly tty: boolean;
  private readonly total: number;
  private readonly resumed: number;
  private last = -Infinity;
  private drawn = false;

  /** `total` tasks in the sweep, `resumed` of them committed by an earlier run. */
  constructor(out: ProgressStream, total: number, resumed: number) {
    this.out = out;
    this.tty = out.isTTY === true;
    this.total = total;
    this.resumed = resumed;
  }

  /** `completed` tasks of this run, at `ratePerS`, `etaS` seconds left. */
  update(completed: number, ratePerS: number, etaS: number, final = false): void {
    const now = performance.now();
    if (!final && now - this.last < (this.tty ? 100 : 1000)) return;
    this.last = now;
    const doneAll = this.resumed + completed;
    const pct = this.total === 0 ? 100 : (100 * doneAll) / this.total;
    const rate = `${ratePerS.toFixed(ratePerS < 10 ? 2 : 1)} tasks/s`;
    const resumed = this.resumed > 0 ? `, ${this.resumed} resumed` : '';
    if (this.tty) {
      const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 60));
      const fill = Math.round((width * pct) / 100);
      const bar = '#'.repeat(fill) + '-'.repeat(width - fill);
      this.out.write(`\r[${bar}] ${doneAll}/${this.total} ${pct.toFixed(0)}%  ${rate}  ETA ${clock(etaS)}${resumed}\x1b[K`);
      this.drawn = true;
      if (final) {
        this.out.write('\n');
        this.drawn = false;
      }
    } else {
      this.out.write(`sweep: ${doneAll}/${this.total} tasks (${pct.toFixed(0)} %), ${rate}, ETA ${clock(etaS)}${resumed}\n`);
    }
  }

  /** Ends a bar left on the line (an interrupted run). */
  close(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
