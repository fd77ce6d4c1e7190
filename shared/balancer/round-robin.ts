// Weighted round-robin by stride scheduling. Each target's pass is (picks + 1/2) / weight; the lowest pass
// is picked (ties: lower index). Starting half a stride in (the Sainte-Laguë divisor sequence) spreads a
// heavy target's picks evenly, like nginx's smooth weighted round-robin, and every sum(weights) picks
// hold exactly weight picks of each target: the picks of one cycle are exactly the passes below 1.
//
// Skipped targets (excluded, or outside the candidates) must not bank credit: a target whose pass fell
// behind the virtual time (the pass of the last pick) is first brought up to it when it is next picked,
// so it comes back with one pick, not a burst. Doing that lazily keeps a pick O(log n) instead of
// touching every skipped target.
import { IndexedMinHeap } from './binary-heap';
import { checkTargets, isTargetIndex } from './targets';
import type { Algorithm, Observation, PickInput, TargetSpec } from './types';

export class RoundRobin implements Algorithm {
  private readonly weights: Float64Array;
  /** pass = offsets[j] + (counts[j] + 0.5) / weights[j]: integer counts keep cycles exact (no summed strides). */
  private readonly counts: Float64Array;
  private readonly offsets: Float64Array;
  private readonly heap: IndexedMinHeap;
  /** ids[j]: the index reported (and excluded) for local target j; undefined: the identity. */
  private readonly ids: readonly number[] | undefined;
  private readonly localOf: ReadonlyMap<number, number> | undefined;
  private virtualTime = 0;

  /**
   * `ids` lets a scheduler run over a subset of a larger target list (priority's groups): targets[j] is
   * reported, excluded and named in candidates as ids[j].
   */
  constructor(targets: readonly TargetSpec[], ids?: readonly number[]) {
    checkTargets(targets);
    if (ids !== undefined && ids.length !== targets.length) throw new Error('one id per target');
    const n = targets.length;
    this.weights = Float64Array.from(targets, (t) => t.weight);
    this.counts = new Float64Array(n);
    this.offsets = new Float64Array(n);
    this.heap = new IndexedMinHeap(n);
    for (let j = 0; j < n; j++) this.heap.set(j, this.pass(j));
    this.ids = ids;
    this.localOf = ids === undefined ? undefined : new Map(ids.map((id, j) => [id, j]));
  }

  pick(input: PickInput): number | undefined {
    const j = input.candidates === undefined
      ? this.heap.lowestExcluding(input.exclude, this.ids)
      : this.lowestCandidate(input.exclude, input.candidates);
    if (j === undefined) return undefined;
    const w = this.weights[j]!;
    if (this.pass(j) < this.virtualTime) {
      // Skipped while others advanced: restart at the virtual time (pass = V now, V + 1/w after this pick).
      this.offsets[j] = this.virtualTime - 0.5 / w;
      this.counts[j] = 0;
    }
    this.virtualTime = Math.max(this.virtualTime, this.pass(j));
    this.counts[j]!++;
    this.heap.set(j, this.pass(j));
    return this.ids === undefined ? j : this.ids[j]!;
  }

  /** Round-robin learns nothing from outcomes. */
  finished(_o: Observation): void {}

  private pass(j: number): number {
    return this.offsets[j]! + (this.counts[j]! + 0.5) / this.weights[j]!;
  }

  /** O(|candidates|): the lowest pass among them, passes behind the virtual time counting as at it. */
  private lowestCandidate(exclude: ReadonlySet<number>, candidates: readonly number[]): number | undefined {
    let best: number | undefined;
    let bestPass = Infinity;
    for (const id of candidates) {
      const j = this.localOf === undefined ? (isTargetIndex(id, this.heap.size) ? id : undefined) : this.localOf.get(id);
      if (j === undefined || exclude.has(id)) continue;
      const p = Math.max(this.heap.key(j), this.virtualTime);
      if (p < bestPass || (p === bestPass && j < best!)) {
        best = j;
        bestPass = p;
      }
    }
    return best;
  }
}
