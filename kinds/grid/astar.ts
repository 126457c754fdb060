/**
 * Grid search over a NavGrid: A* and jump-point search for one path, Dijkstra for a
 * distance field. No per-node objects: every per-cell value lives in one SearchScratch
 * per thread (search-scratch.ts: generation-stamped, so nothing is cleared between
 * searches and nothing is allocated per search) and in AStar's snapshot of the walls;
 * with both, a thread holds under 12 bytes per cell.
 *
 * Movement model (the same one the `pathfinding` package calls
 * DiagonalMovement.OnlyWhenNoObstacles when `diagonal` is on, Never when off, and the
 * Moving AI benchmarks use): orthogonal steps cost 1; a diagonal step costs SQRT2 and is
 * allowed only when both orthogonal cells it passes between are free, so paths never
 * cut a wall corner.
 *
 * One AStar and one DistanceField per thread, sharing that thread's scratch: a worker
 * keeps them in its kind state and reuses them.
 */
import { EngineError } from '../../engine/errors.js';
import type { NavGrid } from './nav-grid.js';
import { DIR_MASK, DIR_OF, DIR_X, DIR_Y, GEN_STATE_MASK, SearchScratch } from './search-scratch.js';

const SQRT2 = Math.SQRT2;
const OCTILE_F = SQRT2 - 1;
/** Set in the neighbour byte of a peeled dead-end cell, whose low bits are its parent's direction (AStar.peelDeadEnds). */
const PEELED = 0x80;
/** A copy of `a` twice as long (at least 64). */
const grown = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
  const b = new Int32Array(Math.max(64, a.length * 2));
  b.set(a);
  return b;
};

/** Cells a straight run steps one at a time before scanning the rest a 32-cell word at a time. */
const WALK_CELLS = 8;

/**
 * Offers cell `nb` at (nx, ny), reached from `cur` by direction `dir`, a path of cost
 * `ng`. Module level with every input as an argument so V8 inlines it into the search
 * loop. `hw` is the octile weight (SQRT2 - 1), or 1 for Manhattan.
 */
function relax(
  s: SearchScratch, g: Float64Array, mark: Uint16Array, openTag: number, closedTag: number,
  nb: number, dir: number, ng: number, nx: number, ny: number, gx: number, gy: number, hw: number,
): void {
  const m = mark[nb];
  const gs = m & GEN_STATE_MASK;
  if (gs === closedTag) return;
  // Current generation (open or deferred): only a strictly better offer counts.
  if (m >>> 5 === openTag >>> 5 && ng >= g[nb]) return;
  mark[nb] = openTag | dir;
  g[nb] = ng;
  const dx = nx > gx ? nx - gx : gx - nx;
  const dy = ny > gy ? ny - gy : gy - ny;
  s.offer(nb, ng + (dx < dy ? hw * dx + dy : hw * dy + dx), ng);
}

/**
 * One straight run of jump-point search over a bit line (a row, or a column of the
 * transposed bits): from position `p` in direction `dir` (+1 or -1) until a wall ends
 * it (-1) or a jump point is reached (its position): the goal (`goalP`, or -1 when the
 * goal is not on this line), or a cell beside which a wall ends behind us on line `a`
 * or `b` (the lines on either side; -1 when off the grid). Works a 32-bit word at a
 * time: forced cells are `free & ~(free shifted one step back)` on each side line.
 */
function scanRun(bits: Int32Array, words: number, line: number, a: number, b: number, p: number, dir: number, goalP: number): number {
  let k = p >> 5;
  if (dir > 0) {
    let valid = -1 << (p & 31); // positions >= p in this word
    for (;;) {
      const f = bits[line + k];
      let forced = 0;
      if (a >= 0) {
        const s = bits[a + k];
        // Bit i of the shifted word is cell i - 1; the one before word 0 is never behind a run.
        forced = s & ~((s << 1) | (k > 0 ? bits[a + k - 1] >>> 31 : 1));
      }
      if (b >= 0) {
        const s = bits[b + k];
        forced |= s & ~((s << 1) | (k > 0 ? bits[b + k - 1] >>> 31 : 1));
      }
      if (goalP >= 0 && goalP >> 5 === k) forced |= 1 << (goalP & 31);
      forced &= valid;
      const wall = ~f & valid;
      if ((forced | wall) !== 0) {
        // The lowest forced cell counts if it comes before the lowest wall.
        if (forced !== 0) {
          const fp = 31 - Math.clz32(forced & -forced);
          if (wall === 0 || fp < 31 - Math.clz32(wall & -wall)) return (k << 5) + fp;
        }
        return -1;
      }
      if (++k >= words) return -1;
      valid = -1;
    }
  }
  let valid = ((2 << (p & 31)) - 1) | 0; // positions <= p in this word
  for (;;) {
    const f = bits[line + k];
    let forced = 0;
    if (a >= 0) {
      const s = bits[a + k];
      forced = s & ~((s >>> 1) | ((k + 1 < words ? bits[a + k + 1] & 1 : 1) << 31));
    }
    if (b >= 0) {
      const s = bits[b + k];
      forced |= s & ~((s >>> 1) | ((k + 1 < words ? bits[b + k + 1] & 1 : 1) << 31));
    }
    if (goalP >= 0 && goalP >> 5 === k) forced |= 1 << (goalP & 31);
    forced &= valid;
    const wall = ~f & valid;
    if ((forced | wall) !== 0) {
      // Moving down the positions: the highest forced cell, if above the highest wall.
      if (forced !== 0) {
        const fp = 31 - Math.clz32(forced);
        if (wall === 0 || fp > 31 - Math.clz32(wall)) return (k << 5) + fp;
      }
      return -1;
    }
    if (--k < 0) return -1;
    valid = -1;
  }
}

/** Outcome of the last AStar search, read right after it. */
export interface SearchInfo {
  found: boolean;
  /** Path cost in cells (orthogonal 1, diagonal SQRT2); -1 when not found. */
  cost: number;
  /** Cells on the path, start and goal included; 0 when not found. */
  cells: number;
  /** Turning points of the path (start, every change of direction, goal); 0 when not found. */
  waypoints: number;
  /** Nodes taken off the open list. */
  expanded: number;
}

/**
 * A* and jump-point search over one NavGrid. Any single thread may use an instance; it
 * is not shareable. The path of the last successful search stays readable (writeCells,
 * writeWaypoints) until the next search on the same scratch, by this or another user.
 */
export class AStar {
  readonly grid: NavGrid;
  readonly scratch: SearchScratch;
  private readonly width: number;
  private readonly height: number;
  readonly info: SearchInfo = { found: false, cost: -1, cells: 0, waypoints: 0, expanded: 0 };
  /** Cell-index offset of each direction. */
  private readonly step: Int32Array;
  /** The scratch generation of the path that is readable, or -1. */
  private pathGen = -1;
  private pathStart = -1;
  private jGoal = -1;
  private jGoalX = -1;
  private jGoalY = -1;
  /** Bound on a jump's length, against a corridor that turned forever (it cannot: a guard). */
  private readonly cellLimit: number;
  /**
   * Free cells as bits, for scanning straight runs 32 cells at a time: row y's bits
   * (bit x & 31 of word y * rowWords + (x >> 5)), and the same transposed, column x's
   * bits by y. 1 = free; padding past the grid's edge is 0, a wall. About a quarter of
   * a byte per cell; the jump search's view of the nav grid (read-only once shared):
   * its free cells less the dead ends (peelDeadEnds), plus the branches the current
   * search opened (openBranches).
   */
  private readonly rowFree: Int32Array;
  private readonly colFree: Int32Array;
  private readonly rowWords: number;
  private readonly colWords: number;
  /**
   * One byte per cell, for the short runs where a 32-cell word scan costs more than
   * stepping: bit d (d = N, E, S, W = 0..3) is set when the neighbour in direction d is
   * on the grid and free; bit 4 + d when a straight run moving in direction d finds a
   * forced neighbour here (a side cell is free and the one behind it is a wall), the same
   * rule scanRun applies a word at a time; both by the view (rowFree). Read by the search
   * only for cells free in the view; a peeled cell's byte is PEELED | its parent's direction.
   */
  private readonly nbr: Uint8Array;

  /** `scratch` defaults to a new one sized for the grid; pass a thread's shared one. */
  constructor(grid: NavGrid, scratch?: SearchScratch) {
    const n = grid.width * grid.height;
    if (scratch && scratch.cellCount !== n) throw new EngineError('INVALID_OPTION', `scratch has ${scratch.cellCount} cells, the grid ${n}`);
    this.grid = grid;
    this.width = grid.width;
    this.height = grid.height;
    this.scratch = scratch ?? new SearchScratch(n);
    this.step = Int32Array.from(DIR_X, (dx, d) => DIR_Y[d] * grid.width + dx);
    this.cellLimit = n;
    const { width: W, height: H, cells } = grid;
    this.rowWords = (W + 31) >> 5;
    this.colWords = (H + 31) >> 5;
    this.rowFree = new Int32Array(H * this.rowWords);
    this.colFree = new Int32Array(W * this.colWords);
    this.nbr = new Uint8Array(n);
    // 1 where a cell is free in the view, while it is built: free, less the dead ends.
    const view = new Uint8Array(n);
    for (let i = 0; i < n; i++) view[i] = cells[i] === 0 ? 1 : 0;
    this.peelDeadEnds(view);
    for (let y = 0; y < H; y++) {
      const up = y > 0, down = y < H - 1;
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        if (view[i] === 0) continue;
        this.rowFree[y * this.rowWords + (x >> 5)] |= 1 << (x & 31);
        this.colFree[x * this.colWords + (y >> 5)] |= 1 << (y & 31);
        const left = x > 0, right = x < W - 1;
        // Bit d: the neighbour in direction d (N, E, S, W, NE, SE, SW, NW) is free in the view.
        const m = (up && view[i - W] === 1 ? 1 : 0) | (right && view[i + 1] === 1 ? 2 : 0) | (down && view[i + W] === 1 ? 4 : 0) | (left && view[i - 1] === 1 ? 8 : 0)
          | (up && right && view[i - W + 1] === 1 ? 16 : 0) | (down && right && view[i + W + 1] === 1 ? 32 : 0)
          | (down && left && view[i + W - 1] === 1 ? 64 : 0) | (up && left && view[i - W - 1] === 1 ? 128 : 0);
        this.nbr[i] = this.nbrFrom(m, x, y);
      }
    }
  }

  /**
   * True when (x, y) is on the grid and free in the jump search's view: a free cell not
   * in a dead end, or one of the dead-end cells the current search opened.
   */
  private isFree(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height && ((this.rowFree[y * this.rowWords + (x >> 5)] >>> (x & 31)) & 1) !== 0;
  }

  private setFree(x: number, y: number, free: boolean): void {
    const r = y * this.rowWords + (x >> 5);
    const c = x * this.colWords + (y >> 5);
    if (free) {
      this.rowFree[r] |= 1 << (x & 31);
      this.colFree[c] |= 1 << (y & 31);
    } else {
      this.rowFree[r] &= ~(1 << (x & 31));
      this.colFree[c] &= ~(1 << (y & 31));
    }
  }

  /** The neighbour byte (see nbr) of the free cell (x, y), from the cells free in the view. */
  private nbrOf(x: number, y: number): number {
    return this.nbrFrom(this.freeAround(x, y), x, y);
  }

  /** Which of the 8 cells around (x, y) are free in the view: bit d for direction d (N, E, S, W, NE, SE, SW, NW). */
  private freeAround(x: number, y: number): number {
    let m = 0;
    for (let d = 0; d < 8; d++) if (this.isFree(x + DIR_X[d], y + DIR_Y[d])) m |= 1 << d;
    return m;
  }

  /** The neighbour byte of free cell (x, y) whose free neighbours are `m` (freeAround). */
  private nbrFrom(m: number, x: number, y: number): number {
    const up = y > 0, down = y < this.height - 1, left = x > 0, right = x < this.width - 1;
    const fN = (m & 1) !== 0;
    const fE = (m & 2) !== 0;
    const fS = (m & 4) !== 0;
    const fW = (m & 8) !== 0;
    const fNE = (m & 16) !== 0;
    const fSE = (m & 32) !== 0;
    const fSW = (m & 64) !== 0;
    const fNW = (m & 128) !== 0;
    // A run enters a cell from the one behind it, so that one is on the grid: at an edge no run is forced.
    const forcedN = down && ((fW && !fSW) || (fE && !fSE));
    const forcedE = left && ((fN && !fNW) || (fS && !fSW));
    const forcedS = up && ((fW && !fNW) || (fE && !fNE));
    const forcedW = right && ((fN && !fNE) || (fS && !fSE));
    return (fN ? 1 : 0) | (fE ? 2 : 0) | (fS ? 4 : 0) | (fW ? 8 : 0) | (forcedN ? 16 : 0) | (forcedE ? 32 : 0) | (forcedS ? 64 : 0) | (forcedW ? 128 : 0);
  }

  /** The legal moves from free cell (x, y) on the nav grid: bit d for direction d, its target free and no corner cut. */
  private legalMoves(x: number, y: number): number {
    const { width: W, height: H, cells } = this.grid;
    const i = y * W + x;
    const n = y > 0 && cells[i - W] === 0, e = x < W - 1 && cells[i + 1] === 0;
    const s = y < H - 1 && cells[i + W] === 0, w = x > 0 && cells[i - 1] === 0;
    return (n ? 1 : 0) | (e ? 2 : 0) | (s ? 4 : 0) | (w ? 8 : 0)
      | (n && e && cells[i - W + 1] === 0 ? 16 : 0) | (s && e && cells[i + W + 1] === 0 ? 32 : 0)
      | (s && w && cells[i + W - 1] === 0 ? 64 : 0) | (n && w && cells[i - W - 1] === 0 ? 128 : 0);
  }

  /**
   * Takes the grid's dead ends out of the jump search's view. A free cell with one legal
   * move left is a dead end: no shortest path between two other cells goes through it (it
   * would have to leave the way it came), so it is peeled, and its neighbour loses a move;
   * peeling repeats until no cell has one move left. What goes is every tree-shaped part
   * of the grid: corridors that end, rooms with one door and what hangs off them, all of a
   * maze without loops. A peeled cell cannot sit at the corner of a diagonal move between
   * two cells that stay (it would have two moves left), so taking it out changes no other
   * move. Its neighbour byte keeps the direction of the neighbour it hung from (its
   * parent), from which a search reopens the branches its ends lie in (openBranches).
   * The neighbour bytes hold each cell's move count while this runs; `view` loses the
   * peeled cells.
   */
  private peelDeadEnds(view: Uint8Array): void {
    const { width: W, height: H, cells } = this.grid;
    const deg = this.nbr;
    const step = this.step;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (cells[y * W + x] !== 0) continue;
        let m = this.legalMoves(x, y);
        let moves = 0;
        for (; m !== 0; m &= m - 1) moves++;
        deg[y * W + x] = moves;
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let cx = x, cy = y;
        let c = cy * W + cx;
        // A peeled cell's byte has PEELED set, so it never reads as one move left.
        while (cells[c] === 0 && deg[c] === 1) {
          const m = this.legalMoves(cx, cy);
          let pd = -1;
          for (let d = 0; d < 8 && pd < 0; d++) if ((m & (1 << d)) !== 0 && (deg[c + step[d]] & PEELED) === 0) pd = d;
          if (pd < 0) break;
          deg[c] = PEELED | pd;
          view[c] = 0;
          c += step[pd];
          cx += DIR_X[pd];
          cy += DIR_Y[pd];
          deg[c]--;
        }
      }
    }
  }

  /** Peeled cells the current jump search opened (openBranches), and their neighbour bytes to put back. */
  private opened = new Int32Array(0);
  private openedByte = new Uint8Array(0);
  private openedCount = 0;
  /** Open cells beside the opened ones whose neighbour bytes changed with them. */
  private beside = new Int32Array(0);
  private besideCount = 0;

  /** True when (x, y) is a free cell of the grid that peelDeadEnds took out (and no search has opened). */
  private isPeeled(x: number, y: number): boolean {
    return !this.isFree(x, y) && this.grid.cells[y * this.grid.width + x] === 0;
  }

  /**
   * Opens the dead-end cells between the search's ends: each end's branch up to where
   * the two branches meet, or, when they do not meet, each whole branch up to the cell
   * it hangs from. Nothing else of a dead end can be on the shortest path, which lies in
   * the tree between the ends or leaves it by the way each came in. The meeting cell is
   * found by climbing from both ends in turns, each marking its cells in the scratch
   * (a generation of its own), until one steps on the other's mark: the climb costs
   * about the length of the branches' path, not their depth.
   */
  private openBranches(sx: number, sy: number, gx: number, gy: number): void {
    const W = this.grid.width;
    let aUp = this.isPeeled(sx, sy);
    let bUp = this.isPeeled(gx, gy);
    if (!aUp && !bUp) return;
    const nbr = this.nbr;
    const s = this.scratch;
    s.begin(W, gx, gy, OCTILE_F, true);
    const mark = s.mark;
    const fromStart = s.openTag;
    const fromGoal = s.closedTag;
    let ax = sx, ay = sy, bx = gx, by = gy;
    let meet = -1;
    if (aUp) mark[ay * W + ax] = fromStart;
    if (bUp) {
      if (sx === gx && sy === gy) meet = gy * W + gx;
      mark[by * W + bx] = fromGoal;
    }
    while (meet < 0 && (aUp || bUp)) {
      if (aUp) {
        const d = nbr[ay * W + ax] & DIR_MASK;
        ax += DIR_X[d];
        ay += DIR_Y[d];
        const c = ay * W + ax;
        if (!this.isPeeled(ax, ay)) aUp = false;
        else if ((mark[c] & GEN_STATE_MASK) === fromGoal) meet = c;
        else mark[c] = fromStart;
      }
      if (bUp && meet < 0) {
        const d = nbr[by * W + bx] & DIR_MASK;
        bx += DIR_X[d];
        by += DIR_Y[d];
        const c = by * W + bx;
        if (!this.isPeeled(bx, by)) bUp = false;
        else if ((mark[c] & GEN_STATE_MASK) === fromStart) meet = c;
        else mark[c] = fromGoal;
      }
    }
    // The start's side opens up to the meeting cell (inclusive); the goal's stops at the
    // first open cell, which is the meeting cell or the one the branch hangs from. Each
    // opened cell is marked (deferredTag, unused until the search's own generation).
    this.openChain(sx, sy, meet);
    this.openChain(gx, gy, -1);
    const opened = this.opened;
    const n = this.openedCount;
    for (let k = 0; k < n; k++) mark[opened[k]] = s.deferredTag;
    // Neighbour bytes: the opened cells', then those of the open cells beside them that
    // were open before (a few: where a branch hangs, a cell diagonal to it), kept to be
    // recomputed again when the branches close.
    this.besideCount = 0;
    const openedTag = s.deferredTag;
    for (let k = 0; k < n; k++) {
      const c = opened[k];
      const y = (c / W) | 0, x = c - y * W;
      const around = this.freeAround(x, y);
      nbr[c] = this.nbrFrom(around, x, y);
      for (let d = 0; d < 8; d++) {
        if ((around & (1 << d)) === 0) continue;
        const q = c + this.step[d];
        if ((mark[q] & GEN_STATE_MASK) === openedTag) continue;
        nbr[q] = this.nbrOf(x + DIR_X[d], y + DIR_Y[d]);
        if (this.besideCount === this.beside.length) this.beside = grown(this.beside);
        this.beside[this.besideCount++] = q;
      }
    }
  }

  /** Opens the peeled cells from (x, y) up its branch, up to and including cell `last` if it is met. */
  private openChain(x: number, y: number, last: number): void {
    const W = this.grid.width;
    while (this.isPeeled(x, y)) {
      const c = y * W + x;
      const b = this.nbr[c];
      if (this.openedCount === this.opened.length) {
        // Grows only for a branch longer than any before (the path itself runs through it).
        this.opened = grown(this.opened);
        const bytes = new Uint8Array(this.opened.length);
        bytes.set(this.openedByte);
        this.openedByte = bytes;
      }
      this.opened[this.openedCount] = c;
      this.openedByte[this.openedCount] = b;
      this.openedCount++;
      this.setFree(x, y, true);
      if (c === last) return;
      x += DIR_X[b & DIR_MASK];
      y += DIR_Y[b & DIR_MASK];
    }
  }

  /** Closes what openBranches opened: the view and every neighbour byte as they were. */
  private closeBranches(): void {
    const n = this.openedCount;
    if (n === 0) return;
    const W = this.grid.width;
    const opened = this.opened;
    for (let k = 0; k < n; k++) this.setFree(opened[k] % W, (opened[k] / W) | 0, false);
    for (let k = 0; k < n; k++) this.nbr[opened[k]] = this.openedByte[k];
    const beside = this.beside;
    for (let k = 0; k < this.besideCount; k++) this.nbr[beside[k]] = this.nbrOf(beside[k] % W, (beside[k] / W) | 0);
    this.openedCount = 0;
    this.besideCount = 0;
  }

  /** Bytes of every typed array this search state holds: its scratch, wall bitsets, neighbour bytes and step table. */
  bytes(): number {
    return this.scratch.bytes() + this.rowFree.byteLength + this.colFree.byteLength + this.nbr.byteLength + this.step.byteLength + this.opened.byteLength + this.openedByte.byteLength + this.beside.byteLength;
  }

  /** Clears info; returns false (and leaves info as not found) when an end is off the grid or a wall. */
  private prepare(sx: number, sy: number, gx: number, gy: number): boolean {
    const info = this.info;
    info.found = false;
    info.cost = -1;
    info.cells = 0;
    info.waypoints = 0;
    info.expanded = 0;
    this.pathGen = -1;
    const { width: W, height: H, cells } = this.grid;
    if (sx < 0 || sy < 0 || gx < 0 || gy < 0 || sx >= W || gx >= W || sy >= H || gy >= H) return false;
    return cells[sy * W + sx] === 0 && cells[gy * W + gx] === 0;
  }

  /**
   * Finds a shortest path from (sx, sy) to (gx, gy). Gives up (not found) after
   * `maxExpanded` expansions. Returns the cost, or -1; details in `info`.
   */
  search(sx: number, sy: number, gx: number, gy: number, diagonal: boolean, maxExpanded = 0x7fffffff): number {
    if (!this.prepare(sx, sy, gx, gy)) return -1;
    const { width: W, height: H, cells } = this.grid;
    const start = sy * W + sx;
    const goal = gy * W + gx;
    const hw = diagonal ? OCTILE_F : 1;
    const s = this.scratch;
    s.begin(W, gx, gy, hw, true);
    const g = s.g;
    const mark = s.mark;
    const openTag = s.openTag;
    const closedTag = s.closedTag;
    mark[start] = openTag;
    g[start] = 0;
    s.push(start, s.keyOf(start), 0);
    let expanded = 0;
    for (;;) {
      let cur = s.takeHeld();
      if (cur < 0) {
        if ((s.size === 0 || s.heapKey[0] > s.minDeferred) && !s.refill()) break;
        cur = s.pop();
      }
      const m = mark[cur];
      // A superseded entry of a cell already closed through a better one.
      if ((m & GEN_STATE_MASK) !== openTag) continue;
      mark[cur] = closedTag | (m & DIR_MASK);
      expanded++;
      if (cur === goal) break;
      if (expanded > maxExpanded) {
        this.info.expanded = expanded;
        return -1;
      }
      const cy = (cur / W) | 0;
      const cx = cur - cy * W;
      const gc = g[cur];
      // Orthogonal free flags, needed again for the diagonal corner rule.
      const fN = cy > 0 && cells[cur - W] === 0;
      const fS = cy < H - 1 && cells[cur + W] === 0;
      const fW = cx > 0 && cells[cur - 1] === 0;
      const fE = cx < W - 1 && cells[cur + 1] === 0;
      if (fN) relax(s, g, mark, openTag, closedTag, cur - W, 0, gc + 1, cx, cy - 1, gx, gy, hw);
      if (fE) relax(s, g, mark, openTag, closedTag, cur + 1, 1, gc + 1, cx + 1, cy, gx, gy, hw);
      if (fS) relax(s, g, mark, openTag, closedTag, cur + W, 2, gc + 1, cx, cy + 1, gx, gy, hw);
      if (fW) relax(s, g, mark, openTag, closedTag, cur - 1, 3, gc + 1, cx - 1, cy, gx, gy, hw);
      if (diagonal) {
        const gd = gc + SQRT2;
        if (fN && fE && cells[cur - W + 1] === 0) relax(s, g, mark, openTag, closedTag, cur - W + 1, 4, gd, cx + 1, cy - 1, gx, gy, hw);
        if (fS && fE && cells[cur + W + 1] === 0) relax(s, g, mark, openTag, closedTag, cur + W + 1, 5, gd, cx + 1, cy + 1, gx, gy, hw);
        if (fS && fW && cells[cur + W - 1] === 0) relax(s, g, mark, openTag, closedTag, cur + W - 1, 6, gd, cx - 1, cy + 1, gx, gy, hw);
        if (fN && fW && cells[cur - W - 1] === 0) relax(s, g, mark, openTag, closedTag, cur - W - 1, 7, gd, cx - 1, cy - 1, gx, gy, hw);
      }
    }
    this.info.expanded = expanded;
    if ((mark[goal] & GEN_STATE_MASK) !== closedTag) return -1;
    return this.finish(start, goal, false);
  }

  /**
   * The same shortest path costs as search(..., diagonal = true), found with jump-point
   * pruning (Harabor and Grastien's JPS, in the variant for moves that never cut a
   * corner): the open list holds only jump points, and the straight runs between them
   * are followed without touching the heap, their first cells a neighbour byte at a time
   * and the rest 32 cells at a time over the wall bits. Three more savings, all exact:
   * the grid's dead ends are out of the search except the branches its ends lie in
   * (peeled once per thread; a maze without loops is walked along its one path), a
   * corridor's corners are turned inside the jump instead of becoming nodes (see
   * straight()), and each expansion's best successor skips the heap when nothing queued
   * is smaller (SearchScratch.takeHeld). Costs, cells and waypoints are read exactly as
   * after search().
   */
  searchJump(sx: number, sy: number, gx: number, gy: number, maxExpanded = 0x7fffffff): number {
    if (!this.prepare(sx, sy, gx, gy)) return -1;
    this.openBranches(sx, sy, gx, gy);
    try {
      return this.jumpSearch(sx, sy, gx, gy, maxExpanded);
    } finally {
      this.closeBranches();
    }
  }

  /** searchJump's search, over the view with the ends' branches open. */
  private jumpSearch(sx: number, sy: number, gx: number, gy: number, maxExpanded: number): number {
    const W = this.grid.width;
    const nbr = this.nbr;
    const start = sy * W + sx;
    const goal = gy * W + gx;
    const s = this.scratch;
    s.begin(W, gx, gy, OCTILE_F, true);
    const g = s.g;
    const mark = s.mark;
    const openTag = s.openTag;
    const closedTag = s.closedTag;
    mark[start] = openTag;
    g[start] = 0;
    s.push(start, s.keyOf(start), 0);
    this.jGoal = goal;
    this.jGoalX = gx;
    this.jGoalY = gy;
    let expanded = 0;
    for (;;) {
      let cur = s.takeHeld();
      if (cur < 0) {
        if ((s.size === 0 || s.heapKey[0] > s.minDeferred) && !s.refill()) break;
        cur = s.pop();
      }
      const m = mark[cur];
      if ((m & GEN_STATE_MASK) !== openTag) continue;
      mark[cur] = closedTag | (m & DIR_MASK);
      expanded++;
      if (cur === goal) break;
      if (expanded > maxExpanded) {
        this.info.expanded = expanded;
        return -1;
      }
      const cy = (cur / W) | 0;
      const cx = cur - cy * W;
      // Free flags of the four orthogonal neighbours (off the grid counts as a wall).
      const b = nbr[cur];
      const fN = (b & 1) !== 0;
      const fE = (b & 2) !== 0;
      const fS = (b & 4) !== 0;
      const fW = (b & 8) !== 0;
      if (cur === start) {
        // Start: every legal move.
        if (fN) this.straightV(cur, cx, cy, -1, gx, gy);
        if (fE) this.straightH(cur, cx, cy, 1, gx, gy);
        if (fS) this.straightV(cur, cx, cy, 1, gx, gy);
        if (fW) this.straightH(cur, cx, cy, -1, gx, gy);
        if (fN && fE) this.diagonal(cur, cx, cy, 1, -1, gx, gy);
        if (fS && fE) this.diagonal(cur, cx, cy, 1, 1, gx, gy);
        if (fS && fW) this.diagonal(cur, cx, cy, -1, 1, gx, gy);
        if (fN && fW) this.diagonal(cur, cx, cy, -1, -1, gx, gy);
        continue;
      }
      // The direction of travel into this jump point.
      const d = m & DIR_MASK;
      const dx = DIR_X[d];
      const dy = DIR_Y[d];
      if (dx !== 0 && dy !== 0) {
        const fy = dy > 0 ? fS : fN, fx = dx > 0 ? fE : fW;
        if (fy) this.straightV(cur, cx, cy, dy, gx, gy);
        if (fx) this.straightH(cur, cx, cy, dx, gx, gy);
        if (fy && fx) this.diagonal(cur, cx, cy, dx, dy, gx, gy);
      } else if (dx !== 0) {
        const next = dx > 0 ? fE : fW;
        if (next) {
          this.straightH(cur, cx, cy, dx, gx, gy);
          if (fS) this.diagonal(cur, cx, cy, dx, 1, gx, gy);
          if (fN) this.diagonal(cur, cx, cy, dx, -1, gx, gy);
        }
        if (fS) this.straightV(cur, cx, cy, 1, gx, gy);
        if (fN) this.straightV(cur, cx, cy, -1, gx, gy);
      } else {
        const next = dy > 0 ? fS : fN;
        if (next) {
          this.straightV(cur, cx, cy, dy, gx, gy);
          if (fE) this.diagonal(cur, cx, cy, 1, dy, gx, gy);
          if (fW) this.diagonal(cur, cx, cy, -1, dy, gx, gy);
        }
        if (fE) this.straightH(cur, cx, cy, 1, gx, gy);
        if (fW) this.straightH(cur, cx, cy, -1, gx, gy);
      }
    }
    this.info.expanded = expanded;
    if ((mark[goal] & GEN_STATE_MASK) !== closedTag) return -1;
    return this.finish(start, goal, true);
  }

  /**
   * Records the path to a closed goal: walks back from the goal along the direction
   * bits. A jump point's parent is some steps back along the direction that reached it,
   * around any corridor corners the jump turned at (where the way back is a wall and
   * one side is open): the first closed cell there whose cost plus the steps walked is
   * the jump point's cost. On the way each path cell's direction bits are rewritten to
   * the move toward the goal, so the path reads start first without a buffer. Counts
   * cells and turning points. `jumps`: the path was found by jumpSearch, in its view of
   * the grid; a path of search() has no corners to follow and steps one move at a time.
   */
  private finish(start: number, goal: number, jumps: boolean): number {
    const s = this.scratch;
    const g = s.g;
    const mark = s.mark;
    const step = this.step;
    const closedTag = s.closedTag;
    const W = this.grid.width;
    let cur = goal;
    let cx = goal % W;
    let cy = (goal / W) | 0;
    let d = mark[goal] & DIR_MASK;
    let seg = goal; // the jump point the current run leads to
    let segSteps = 0;
    let n = 1;
    let turns = 0;
    let out = -1; // the move leaving `cur` toward the goal; none for the goal
    while (cur !== start) {
      let qx = cx - DIR_X[d];
      let qy = cy - DIR_Y[d];
      if (jumps && d < 4 && !this.isFree(qx, qy)) {
        // A corner the jump turned at: the way in is the one open side.
        const dx = DIR_X[d], dy = DIR_Y[d];
        const lx = cx - dy, ly = cy + dx; // the cell before, had the jump come in turned one way
        d = this.isFree(lx, ly) ? DIR_OF[(-dx + 1) * 3 + dy + 1] : DIR_OF[(dx + 1) * 3 - dy + 1];
        qx = cx - DIR_X[d];
        qy = cy - DIR_Y[d];
      }
      const q = qy * W + qx;
      n++;
      segSteps++;
      if (out >= 0 && out !== d) turns++;
      const mq = mark[q];
      let nd = d;
      if (q !== start && (mq & GEN_STATE_MASK) === closedTag) {
        // The same arithmetic as the offer that set g[seg], so its true parent matches exactly.
        const dist = d < 4 ? segSteps : OCTILE_F * segSteps + segSteps;
        if (g[q] + dist <= g[seg]) {
          nd = mq & DIR_MASK;
          seg = q;
          segSteps = 0;
        }
      }
      mark[q] = (mq & GEN_STATE_MASK) | d;
      out = d;
      cur = q;
      cx = qx;
      cy = qy;
      d = nd;
      if (n > this.cellLimit) throw new Error('path walk-back did not reach the start'); // a broken invariant, never a result
    }
    const info = this.info;
    info.found = true;
    info.cost = g[goal];
    info.cells = n;
    info.waypoints = n === 1 ? 1 : turns + 2;
    this.pathGen = s.gen;
    this.pathStart = start;
    return g[goal];
  }

  /** Jumps along the row from (x, y) in direction dx; offers the jump point found. */
  private straightH(cur: number, x: number, y: number, dx: number, gx: number, gy: number): void {
    this.straight(cur, x, y, dx > 0 ? 1 : 3, gx, gy);
  }

  /** Jumps along the column from (x, y) in direction dy; offers the jump point found. */
  private straightV(cur: number, x: number, y: number, dy: number, gx: number, gy: number): void {
    this.straight(cur, x, y, dy > 0 ? 2 : 0, gx, gy);
  }

  /**
   * Jumps from (x, y) in orthogonal direction `dir` (N, E, S, W = 0..3) and offers the
   * jump point found. A jump point whose only successor would be one straight run
   * sideways (the way ahead is a wall, exactly one side is open: a corridor's corner)
   * is not queued: the jump turns there and goes on, so a winding corridor costs one
   * node, not one per corner. finish() follows such bends back.
   */
  private straight(cur: number, x: number, y: number, dir: number, gx: number, gy: number): void {
    const { width: W, height: H } = this.grid;
    const nbr = this.nbr;
    const goal = this.jGoal;
    let steps = 0;
    let d = dir;
    let px = x;
    let py = y;
    for (;;) {
      const dx = DIR_X[d];
      const dy = DIR_Y[d];
      const ahead = 1 << d;
      const forced = 16 << d;
      const st = dy * W + dx;
      // Step a cell at a time first: most runs in corridors and rooms end within a few cells.
      let q = py * W + px;
      let n = 0;
      let hit = false;
      while (n < WALK_CELLS) {
        q += st;
        n++;
        const b = nbr[q];
        if ((b & forced) !== 0 || q === goal) {
          hit = true;
          break;
        }
        if ((b & ahead) === 0) return;
      }
      px += n * dx;
      py += n * dy;
      steps += n;
      if (!hit) {
        // A long run: the rest a word of 32 cells at a time.
        let p: number;
        if (dy === 0) {
          const words = this.rowWords;
          const row = py * words;
          p = scanRun(this.rowFree, words, row, py > 0 ? row - words : -1, py < H - 1 ? row + words : -1, px + dx, dx, py === this.jGoalY ? this.jGoalX : -1);
          if (p < 0) return;
          steps += p > px ? p - px : px - p;
          px = p;
        } else {
          const words = this.colWords;
          const col = px * words;
          p = scanRun(this.colFree, words, col, px > 0 ? col - words : -1, px < W - 1 ? col + words : -1, py + dy, dy, px === this.jGoalX ? this.jGoalY : -1);
          if (p < 0) return;
          steps += p > py ? p - py : py - p;
          py = p;
        }
      }
      const j = py * W + px;
      if (j === goal || steps > this.cellLimit) break;
      // A corner: ahead is a wall (or the edge), and exactly one of the two sides is open.
      const b = nbr[j];
      if ((b & ahead) !== 0) break;
      const ld = (d + 3) & 3; // one side (dx, dy turned a quarter)
      const l = (b & (1 << ld)) !== 0;
      const r = (b & (1 << ((d + 1) & 3))) !== 0;
      if (l === r) break;
      d = l ? ld : (d + 1) & 3;
    }
    this.offer(cur, py * W + px, px, py, steps, d, gx, gy);
  }

  /** Jumps diagonally from (x, y) by (dx, dy); offers the jump point found. */
  private diagonal(cur: number, x: number, y: number, dx: number, dy: number, gx: number, gy: number): void {
    // Every caller has checked that both cells beside the step are free; the step's own
    // cell is the neighbour of (x + dx, y) in direction dy, in a corridor usually a wall.
    if ((this.nbr[cur + dx] & (dy > 0 ? 4 : 1)) === 0) return;
    const j = this.jump(x + dx, y + dy, dx, dy);
    if (j < 0) return;
    const W = this.grid.width;
    const jy = (j / W) | 0;
    const jx = j - jy * W;
    // A diagonal run: as many steps across as down, octile cost SQRT2 each (as OCTILE_F * a + a).
    const a = jx > x ? jx - x : x - jx;
    this.offer(cur, j, jx, jy, OCTILE_F * a + a, DIR_OF[(dy + 1) * 3 + dx + 1], gx, gy);
  }

  /**
   * Offers jump point j at (jx, jy), `dist` from `cur` by direction `dir`. `dist` is the
   * octile distance computed as finish() computes it, so parents are found exactly.
   */
  private offer(cur: number, j: number, jx: number, jy: number, dist: number, dir: number, gx: number, gy: number): void {
    const s = this.scratch;
    const mark = s.mark;
    const m = mark[j];
    if ((m & GEN_STATE_MASK) === s.closedTag) return;
    const g = s.g;
    const ng = g[cur] + dist;
    if (m >>> 5 === s.gen && ng >= g[j]) return;
    mark[j] = s.openTag | dir;
    g[j] = ng;
    const hx = jx > gx ? jx - gx : gx - jx;
    const hy = jy > gy ? jy - gy : gy - jy;
    s.offer(j, ng + (hx < hy ? OCTILE_F * hx + hy : OCTILE_F * hy + hx), ng);
  }

  /**
   * The first jump point from (x, y) moving diagonally by (dx, dy), or -1. A cell is a
   * jump point if it is the goal or if a straight run from it finds one.
   */
  private jump(x: number, y: number, dx: number, dy: number): number {
    const W = this.grid.width, nbr = this.nbr, goal = this.jGoal;
    const besideX = dx > 0 ? 2 : 8, besideY = dy > 0 ? 4 : 1;
    for (;;) {
      if (!this.isFree(x, y)) return -1;
      const id = y * W + x;
      if (id === goal) return id;
      if (this.jumpH(x + dx, y, dx) >= 0 || this.jumpV(x, y + dy, dy) >= 0) return id;
      // The next diagonal step needs both cells beside it free (no corner cutting).
      const b = nbr[id];
      if ((b & besideX) === 0 || (b & besideY) === 0) return -1;
      x += dx;
      y += dy;
    }
  }

  /** Straight run along x from (x, y): the first jump point or -1. */
  private jumpH(x: number, y: number, dx: number): number {
    const W = this.grid.width;
    if (x < 0 || x >= W) return -1;
    const words = this.rowWords;
    const row = y * words;
    const p = scanRun(
      this.rowFree, words, row, y > 0 ? row - words : -1, y < this.grid.height - 1 ? row + words : -1,
      x, dx, y === this.jGoalY ? this.jGoalX : -1,
    );
    return p < 0 ? -1 : y * W + p;
  }

  /** Straight run along y from (x, y): the first jump point or -1. */
  private jumpV(x: number, y: number, dy: number): number {
    const H = this.grid.height;
    if (y < 0 || y >= H) return -1;
    const words = this.colWords;
    const col = x * words;
    const p = scanRun(
      this.colFree, words, col, x > 0 ? col - words : -1, x < this.grid.width - 1 ? col + words : -1,
      y, dy, x === this.jGoalX ? this.jGoalY : -1,
    );
    return p < 0 ? -1 : p * this.grid.width + x;
  }

  /** True while the last found path is still in the scratch. */
  private pathReadable(): boolean {
    return this.pathGen >= 0 && this.pathGen === this.scratch.gen;
  }

  /**
   * Writes the last path's cells, start first, into out[offset ..], at most `max`.
   * Returns how many were written (info.cells when all fit).
   */
  writeCells(out: Int32Array, offset: number, max: number): number {
    if (!this.pathReadable() || max <= 0) return 0;
    const mark = this.scratch.mark;
    const step = this.step;
    const n = this.info.cells;
    const k = n < max ? n : max;
    let c = this.pathStart;
    for (let i = 0; i < k; i++) {
      out[offset + i] = c;
      if (i + 1 < n) c += step[mark[c] & DIR_MASK];
    }
    return k;
  }

  /**
   * Writes the last path's turning points (start, every cell where the direction
   * changes, goal), start first, at most `max`. Consecutive waypoints are joined by
   * straight orthogonal or diagonal runs of free cells. Returns how many were written:
   * info.waypoints when all fit, else the first `max` of them (the path is truncated
   * and the last one written is not the goal).
   */
  writeWaypoints(out: Int32Array, offset: number, max: number): number {
    if (!this.pathReadable() || max <= 0) return 0;
    const mark = this.scratch.mark;
    const step = this.step;
    const n = this.info.cells;
    let c = this.pathStart;
    let k = 0;
    out[offset + k++] = c;
    if (n === 1) return k;
    let d = mark[c] & DIR_MASK;
    for (let i = 1; i < n && k < max; i++) {
      c += step[d];
      if (i === n - 1) {
        out[offset + k++] = c;
        break;
      }
      const next = mark[c] & DIR_MASK;
      if (next !== d) out[offset + k++] = c;
      d = next;
    }
    return k;
  }
}

/**
 * Dijkstra from one target over a window of the grid: distance of every window cell
 * to the target by the same movement model as AStar (-1 where unreachable inside the
 * window). A flow field follows from it: step to the neighbour with the smallest value.
 * One instance per thread, like AStar, and it may share AStar's scratch.
 */
export class DistanceField {
  readonly grid: NavGrid;
  readonly scratch: SearchScratch;
  reached = 0;
  maxDistance = 0;

  /** `scratch` defaults to a new one sized for the grid; pass a thread's shared one. */
  constructor(grid: NavGrid, scratch?: SearchScratch) {
    const n = grid.width * grid.height;
    if (scratch && scratch.cellCount !== n) throw new EngineError('INVALID_OPTION', `scratch has ${scratch.cellCount} cells, the grid ${n}`);
    this.grid = grid;
    this.scratch = scratch ?? new SearchScratch(n);
  }

  /**
   * Fills out[offset + (y - y0) * w + (x - x0)] for the window [x0, x0+w) x [y0, y0+h)
   * (clipped to the grid by the caller's choice of window). Returns cells reached.
   */
  compute(
    tx: number, ty: number, x0: number, y0: number, w: number, h: number, diagonal: boolean,
    out: Float32Array, offset: number,
  ): number {
    for (let i = 0; i < w * h; i++) out[offset + i] = -1;
    this.reached = 0;
    this.maxDistance = 0;
    const { width: W, cells } = this.grid;
    const x1 = x0 + w;
    const y1 = y0 + h;
    if (tx < x0 || ty < y0 || tx >= x1 || ty >= y1) return 0;
    const target = ty * W + tx;
    if (cells[target] !== 0) return 0;
    const s = this.scratch;
    s.begin(W, tx, ty, 0, false);
    const g = s.g;
    const mark = s.mark;
    const openTag = s.openTag;
    const closedTag = s.closedTag;
    const gen = s.gen;
    mark[target] = openTag;
    g[target] = 0;
    s.push(target, 0, 0);
    let reached = 0;
    let maxD = 0;
    for (;;) {
      if ((s.size === 0 || s.heapKey[0] > s.minDeferred) && !s.refill()) break;
      const cur = s.pop();
      if ((mark[cur] & GEN_STATE_MASK) !== openTag) continue;
      mark[cur] = closedTag;
      const cy = (cur / W) | 0;
      const cx = cur - cy * W;
      const dc = g[cur];
      out[offset + (cy - y0) * w + (cx - x0)] = dc;
      reached++;
      if (dc > maxD) maxD = dc;
      const fN = cy > y0 && cells[cur - W] === 0;
      const fS = cy < y1 - 1 && cells[cur + W] === 0;
      const fW = cx > x0 && cells[cur - 1] === 0;
      const fE = cx < x1 - 1 && cells[cur + 1] === 0;
      for (let d = 0; d < 8; d++) {
        let nb: number;
        let step: number;
        switch (d) {
          case 0: if (!fN) continue; nb = cur - W; step = 1; break;
          case 1: if (!fE) continue; nb = cur + 1; step = 1; break;
          case 2: if (!fS) continue; nb = cur + W; step = 1; break;
          case 3: if (!fW) continue; nb = cur - 1; step = 1; break;
          case 4: if (!diagonal || !fN || !fE || cells[cur - W + 1] !== 0) continue; nb = cur - W + 1; step = SQRT2; break;
          case 5: if (!diagonal || !fS || !fE || cells[cur + W + 1] !== 0) continue; nb = cur + W + 1; step = SQRT2; break;
          case 6: if (!diagonal || !fS || !fW || cells[cur + W - 1] !== 0) continue; nb = cur + W - 1; step = SQRT2; break;
          default: if (!diagonal || !fN || !fW || cells[cur - W - 1] !== 0) continue; nb = cur - W - 1; step = SQRT2; break;
        }
        const m = mark[nb];
        if ((m & GEN_STATE_MASK) === closedTag) continue;
        const nd = dc + step;
        if (m >>> 5 === gen && nd >= g[nb]) continue;
        mark[nb] = openTag;
        g[nb] = nd;
        s.push(nb, nd, 0);
      }
    }
    this.reached = reached;
    this.maxDistance = maxD;
    return reached;
  }
}
