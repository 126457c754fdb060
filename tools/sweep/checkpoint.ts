/**
 * The sweep's files, written by the coordinator alone: the result file (one line per
 * task, in task order) and its checkpoint, so that a run killed at any moment (SIGKILL
 * included) resumes and ends with the bytes an uninterrupted run writes.
 *
 * A commit, in this order:
 *   1. append the new lines at the committed end of the result file, fsync it;
 *   2. write the checkpoint to `<checkpoint>.tmp`, fsync it, rename it over the
 *      checkpoint, fsync the directory.
 * The checkpoint records how many lines and bytes are committed and the SHA-256 of
 * those bytes. Killed after 1 and before 2, the result file holds lines the checkpoint
 * does not cover; resume truncates them and computes them again (tasks are
 * deterministic, so the same bytes come back). The rename is atomic: the checkpoint is
 * always a whole old one or a whole new one.
 *
 * A checkpoint is refused (SweepError) if it is not one of ours or its own check fails
 * (CHECKPOINT_CORRUPT), if it belongs to another grid, seed or code version
 * (CHECKPOINT_FOREIGN), or if the result file no longer holds the bytes it covers
 * (RESULT_FILE_MISMATCH). Nothing is ever mixed.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';

export type SweepErrorCode = 'CHECKPOINT_CORRUPT' | 'CHECKPOINT_FOREIGN' | 'RESULT_FILE_MISMATCH' | 'BAD_OPTION';

export class SweepError extends Error {
  readonly code: SweepErrorCode;
  constructor(code: SweepErrorCode, message: string) {
    super(message);
    this.name = 'SweepError';
    this.code = code;
  }
}

const FORMAT = 'framejobs-sweep-checkpoint';
const VERSION = 1;

/** What identifies a sweep: a checkpoint with another plan hash is someone else's. */
export interface PlanIdentity {
  readonly hash: string;
  readonly grid: string;
  readonly seed: number;
  readonly tasks: number;
}

export interface CheckpointBody {
  readonly format: string;
  readonly version: number;
  readonly plan: string;
  readonly grid: string;
  readonly seed: number;
  readonly tasks: number;
  /** Lines committed: tasks 0 .. committed-1. */
  readonly committed: number;
  /** Bytes of the result file those lines take. */
  readonly bytes: number;
  readonly done: number;
  readonly failed: number;
  /** SHA-256 of the first `bytes` bytes of the result file. */
  readonly result_sha256: string;
}

interface CheckpointFile extends CheckpointBody {
  /** SHA-256 of the body's JSON: a checkpoint damaged in place is caught. */
  readonly check: string;
}

const bodyJson = (b: CheckpointBody): string =>
  JSON.stringify({
    format: b.format, version: b.version, plan: b.plan, grid: b.grid, seed: b.seed, tasks: b.tasks,
    committed: b.committed, bytes: b.bytes, done: b.done, failed: b.failed, result_sha256: b.result_sha256,
  });

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Reads and checks a checkpoint file. Returns null if there is none. */
export function readCheckpoint(path: string): CheckpointBody | null {
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new SweepError('CHECKPOINT_CORRUPT', `checkpoint ${path} is not valid JSON: refusing to resume (delete it to start over)`);
  }
  const c = raw as Partial<CheckpointFile> | null;
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const isHex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  if (
    typeof c !== 'object' || c === null || c.format !== FORMAT || c.version !== VERSION || !isHex(c.plan) || typeof c.grid !== 'string' ||
    typeof c.seed !== 'number' || !isInt(c.tasks) || !isInt(c.committed) || !isInt(c.bytes) || !isInt(c.done) || !isInt(c.failed) ||
    !isHex(c.result_sha256) || !isHex(c.check) || c.committed > c.tasks || c.done + c.failed !== c.committed
  ) {
    throw new SweepError('CHECKPOINT_CORRUPT', `checkpoint ${path} is not a sweep checkpoint of version ${VERSION}: refusing to resume (delete it to start over)`);
  }
  const body = c as CheckpointFile;
  if (sha256(bodyJson(body)) !== body.check) {
    throw new SweepError('CHECKPOINT_CORRUPT', `checkpoint ${path} fails its own check (damaged): refusing to resume (delete it to start over)`);
  }
  return body;
}

export type CrashPhase = 'append' | 'fsync' | 'tmp' | 'rename';

/**
 * Fault injection for the crash tests: FRAMEJOBS_SWEEP_CRASH=<phase>:<n> kills the
 * process with SIGKILL at that phase of the n-th commit that carries lines.
 */
function crashHook(): ((phase: CrashPhase, commit: number) => void) | null {
  const spec = process.env.FRAMEJOBS_SWEEP_CRASH;
  if (!spec) return null;
  const m = /^(append|fsync|tmp|rename):(\d+)$/.exec(spec);
  if (!m) return null;
  const phase = m[1] as CrashPhase;
  const n = Number(m[2]);
  return (p, commit) => {
    if (p === phase && commit === n) process.kill(process.pid, 'SIGKILL');
  };
}

function fsyncDir(dir: string): void {
  // Makes the rename durable. Some file systems refuse to open a directory: then the rename is as durable as they make it.
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Nothing more to do on such a file system.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export interface OpenedResults {
  readonly writer: ResultWriter;
  /** Lines taken over from the checkpoint. */
  readonly resumed: number;
  readonly done: number;
  readonly failed: number;
  /** Why a --resume started over, if it did. */
  readonly note: string | null;
}

/**
 * The result file and its checkpoint. Coordinator thread only; every call is
 * synchronous so the order of writes on disk is the order of the calls.
 */
export class ResultWriter {
  readonly path: string;
  readonly checkpointPath: string;
  private readonly plan: PlanIdentity;
  private readonly fd: number;
  private readonly hash: Hash;
  private committed: number;
  private bytes: number;
  private done: number;
  private failed: number;
  private pending: string[] = [];
  private pendingDone = 0;
  private pendingFailed = 0;
  private commits = 0;
  private readonly crash = crashHook();

  private constructor(path: string, plan: PlanIdentity, fd: number, hash: Hash, c: { committed: number; bytes: number; done: number; failed: number }) {
    this.path = path;
    this.checkpointPath = checkpointPathFor(path);
    this.plan = plan;
    this.fd = fd;
    this.hash = hash;
    this.committed = c.committed;
    this.bytes = c.bytes;
    this.done = c.done;
    this.failed = c.failed;
  }

  /**
   * Opens the result file for `plan`. Fresh: truncates it and writes an empty
   * checkpoint. Resume: checks the checkpoint (SweepError when refused), truncates the
   * result file to what the checkpoint covers and goes on from there; with no
   * checkpoint at all it starts fresh.
   */
  static open(path: string, plan: PlanIdentity, resume: boolean): OpenedResults {
    const ckptPath = checkpointPathFor(path);
    if (resume) {
      const c = readCheckpoint(ckptPath);
      if (c !== null) return ResultWriter.resumeFrom(path, plan, c);
    }
    // Drop the old checkpoint first: a crash between here and the first commit must not
    // leave a checkpoint that covers bytes the truncation below has removed.
    if (existsSync(ckptPath)) {
      unlinkSync(ckptPath);
      fsyncDir(dirname(resolve(ckptPath)));
    }
    const fd = openSync(path, 'w');
    fsyncSync(fd);
    const w = new ResultWriter(path, plan, fd, createHash('sha256'), { committed: 0, bytes: 0, done: 0, failed: 0 });
    w.writeCheckpoint();
    return { writer: w, resumed: 0, done: 0, failed: 0, note: resume ? `no checkpoint at ${ckptPath}: starting from the first task` : null };
  }

  private static resumeFrom(path: string, plan: PlanIdentity, c: CheckpointBody): OpenedResults {
    if (c.plan !== plan.hash) {
      throw new SweepError(
        'CHECKPOINT_FOREIGN',
        `checkpoint ${checkpointPathFor(path)} belongs to another sweep (grid ${c.grid}, seed ${c.seed}, ${c.tasks} tasks, or another code version); ` +
          `this one is grid ${plan.grid}, seed ${plan.seed}, ${plan.tasks} tasks: refusing to mix them (use another --out, or drop --resume to start over)`,
      );
    }
    if (c.tasks !== plan.tasks) throw new SweepError('CHECKPOINT_CORRUPT', `checkpoint ${checkpointPathFor(path)} says ${c.tasks} tasks, the plan has ${plan.tasks}`);
    if (!existsSync(path)) throw new SweepError('RESULT_FILE_MISMATCH', `result file ${path} is missing; its checkpoint covers ${c.committed} lines: refusing to resume`);
    const size = statSync(path).size;
    if (size < c.bytes) {
      throw new SweepError('RESULT_FILE_MISMATCH', `result file ${path} has ${size} bytes, its checkpoint covers ${c.bytes}: refusing to resume`);
    }
    const fd = openSync(path, 'r+');
    try {
      // The committed bytes must be the ones the checkpoint hashed.
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(1 << 16);
      let pos = 0;
      while (pos < c.bytes) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, c.bytes - pos), pos);
        if (n <= 0) break;
        hash.update(buf.subarray(0, n));
        pos += n;
      }
      if (hash.copy().digest('hex') !== c.result_sha256) {
        throw new SweepError('RESULT_FILE_MISMATCH', `result file ${path} does not hold the ${c.committed} lines its checkpoint covers (hash differs): refusing to resume`);
      }
      // Lines written after the last checkpoint are dropped: they are computed again.
      ftruncateSync(fd, c.bytes);
      fsyncSync(fd);
      const w = new ResultWriter(path, plan, fd, hash, c);
      return { writer: w, resumed: c.committed, done: c.done, failed: c.failed, note: null };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get committedLines(): number {
    return this.committed;
  }

  /** Queues the next line (task `committed + pending`); written at the next commit. */
  append(line: string, ok: boolean): void {
    this.pending.push(line.endsWith('\n') ? line : line + '\n');
    if (ok) this.pendingDone++;
    else this.pendingFailed++;
  }

  get pendingLines(): number {
    return this.pending.length;
  }

  /** Writes queued lines and then the checkpoint that covers them (see the file comment). */
  commit(): void {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    const n = this.commits + 1;
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off, this.bytes + off);
    this.crash?.('append', n);
    fsyncSync(this.fd);
    this.crash?.('fsync', n);
    this.hash.update(data);
    this.committed += this.pending.length;
    this.bytes += data.length;
    this.done += this.pendingDone;
    this.failed += this.pendingFailed;
    this.pending = [];
    this.pendingDone = 0;
    this.pendingFailed = 0;
    this.commits = n;
    this.writeCheckpoint();
  }

  private writeCheckpoint(): void {
    const body: CheckpointBody = {
      format: FORMAT, version: VERSION, plan: this.plan.hash, grid: this.plan.grid, seed: this.plan.seed, tasks: this.plan.tasks,
      committed: this.committed, bytes: this.bytes, done: this.done, failed: this.failed, result_sha256: this.hash.copy().digest('hex'),
    };
    const json = bodyJson(body);
    const text = JSON.stringify({ ...JSON.parse(json), check: sha256(json) }) + '\n';
    const tmp = this.checkpointPath + '.tmp';
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.crash?.('tmp', this.commits);
    renameSync(tmp, this.checkpointPath);
    fsyncDir(dirname(resolve(this.checkpointPath)));
    this.crash?.('rename', this.commits);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export const checkpointPathFor = (resultPath: string): string => resultPath + '.ckpt';

/** SHA-256 (hex) of a whole file. */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
