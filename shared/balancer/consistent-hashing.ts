// Consistent hashing on a ring of `slots` positions. Each target owns points at
// md5(identity + '#' + i) mod slots, i = 0..points-1; a request's hashKey lands on the ring and goes to
// the first point at or after it (wrapping) whose target the pick allows.
//
// Points: 160 per target at equal weights, proportional to weight/mean weight otherwise (at least 1).
// Scaling by the mean, not a fixed constant, keeps the ring fine-grained whatever the weight scale
// (weights 1/1/1 would otherwise get 2 points each). A point's position depends only on its target's
// identity and its number, never on the target's index or the other targets, so adding or removing an
// equal-weight target moves only the keys that must move; at unequal weights the others' point counts
// rescale, which adds or drops only the tail of their point sequences.
//
// A request without the header (hashKey undefined) falls back to weighted round-robin: Kong documents
// nothing for that case, and spreading such requests by weight beats sending them all to one target.
import { hash } from 'node:crypto';
import { RoundRobin } from './round-robin';
import { allExcluded, checkTargets, isTargetIndex } from './targets';
import type { Algorithm, Observation, PickInput, TargetSpec } from './types';

const POINTS_PER_TARGET = 160;

/** The first 4 bytes of md5(s), big-endian. (Hex output: no Buffer per call, measurably faster.) */
export function ringHash(s: string): number {
  return Number.parseInt(hash('md5', s, 'hex').slice(0, 8), 16);
}

export class ConsistentHashing implements Algorithm {
  /** Ring points sorted by position (ties: target identity, then point number). */
  private readonly positions: Uint32Array;
  private readonly owners: Int32Array;
  /** ranksOf[t]: the ascending ring ranks of target t's points, for picks restricted to candidates. */
  private readonly ranksOf: readonly Int32Array[];
  private readonly fallback: RoundRobin;

  constructor(targets: readonly TargetSpec[], private readonly slots: number) {
    checkTargets(targets);
    if (!Number.isInteger(slots) || slots < 10 || slots > 65536) throw new RangeError(`slots must be an integer 10-65536, got ${slots}`);
    const n = targets.length;
    const ids = identities(targets.map((t) => t.key));
    // Same-position ties resolve by identity, not index: the order survives other targets coming and going.
    const identityRank = new Int32Array(n);
    ids.map((id, t) => ({ id, t })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .forEach(({ t }, r) => { identityRank[t] = r; });
    const meanWeight = targets.reduce((sum, t) => sum + t.weight, 0) / n;
    const counts = targets.map((t) => Math.max(1, Math.round(POINTS_PER_TARGET * t.weight / meanWeight)));
    const size = counts.reduce((a, b) => a + b, 0);
    // Built once per config, but with many targets it is 100k+ points: typed arrays and plain loops.
    const pos = new Uint32Array(size);
    const owner = new Int32Array(size);
    const point = new Int32Array(size);
    for (let t = 0, k = 0; t < n; t++) {
      for (let i = 0; i < counts[t]!; i++, k++) {
        pos[k] = ringHash(`${ids[t]}#${i}`) % slots;
        owner[k] = t;
        point[k] = i;
      }
    }
    const order = new Int32Array(size);
    for (let k = 0; k < size; k++) order[k] = k;
    order.sort((a, b) => pos[a]! - pos[b]! || identityRank[owner[a]!]! - identityRank[owner[b]!]! || point[a]! - point[b]!);
    this.positions = new Uint32Array(size);
    this.owners = new Int32Array(size);
    for (let r = 0; r < size; r++) {
      this.positions[r] = pos[order[r]!]!;
      this.owners[r] = owner[order[r]!]!;
    }
    // Each target's ranks: consecutive slices of one array, filled in ring order (so ascending).
    const allRanks = new Int32Array(size);
    const starts = new Int32Array(n + 1);
    for (let t = 0; t < n; t++) starts[t + 1] = starts[t]! + counts[t]!;
    const fill = starts.slice(0, n);
    for (let r = 0; r < size; r++) allRanks[fill[this.owners[r]!]!++] = r;
    this.ranksOf = counts.map((_, t) => allRanks.subarray(starts[t]!, starts[t + 1]!));
    this.fallback = new RoundRobin(targets);
  }

  pick(input: PickInput): number | undefined {
    if (input.hashKey === undefined) return this.fallback.pick(input);
    const size = this.positions.length;
    let start = lowerBound(this.positions, ringHash(input.hashKey) % this.slots);
    if (start === size) start = 0;
    const { exclude, candidates } = input;
    if (candidates !== undefined) return this.nearestCandidate(start, exclude, candidates);
    if (allExcluded(exclude, this.ranksOf.length)) return undefined;
    // Walks only over points of excluded targets: short unless most of the ring is excluded.
    for (let r = start, s = 0; s < size; s++, r = r + 1 === size ? 0 : r + 1) {
      const t = this.owners[r]!;
      if (!exclude.has(t)) return t;
    }
    return undefined;
  }

  /** Consistent hashing learns nothing from outcomes. */
  finished(_o: Observation): void {}

  /** The walk's answer restricted to candidates, in O(|candidates| log points): each one's next point. */
  private nearestCandidate(start: number, exclude: ReadonlySet<number>, candidates: readonly number[]): number | undefined {
    const size = this.positions.length;
    let best: number | undefined;
    let bestDistance = Infinity;
    for (const t of candidates) {
      if (!isTargetIndex(t, this.ranksOf.length) || exclude.has(t)) continue;
      const ranks = this.ranksOf[t]!;
      const k = lowerBound(ranks, start);
      const distance = k < ranks.length ? ranks[k]! - start : ranks[0]! + size - start;
      if (distance < bestDistance) {
        best = t;
        bestDistance = distance;
      }
    }
    return best;
  }
}

/** Keys made unique: a repeated key gets its occurrence number, so identical targets stay distinct. */
function identities(keys: readonly string[]): string[] {
  const used = new Set<string>();
  return keys.map((key) => {
    let id = key;
    for (let occurrence = 1; used.has(id); occurrence++) id = `${key}\u0000${occurrence}`;
    used.add(id);
    return id;
  });
}

/** The first index whose value is >= x (sorted input). */
function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
