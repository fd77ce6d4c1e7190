// Priority: targets grouped by equal weight, groups tried by weight, highest first. A group serves
// while any of its targets is allowed (round-robin within it, weights being equal); a lower group only
// while every target of every higher group is excluded or outside the candidates.
import { RoundRobin } from './round-robin';
import { checkTargets, isTargetIndex } from './targets';
import type { Algorithm, Observation, PickInput, TargetSpec } from './types';

export class Priority implements Algorithm {
  /** Highest weight first. */
  private readonly groups: readonly RoundRobin[];
  /** groupOf[t]: the rank of target t's group in `groups`. */
  private readonly groupOf: Int32Array;

  constructor(targets: readonly TargetSpec[]) {
    checkTargets(targets);
    const weights = [...new Set(targets.map((t) => t.weight))].sort((a, b) => b - a);
    const rankOf = new Map(weights.map((w, r) => [w, r]));
    this.groupOf = Int32Array.from(targets, (t) => rankOf.get(t.weight)!);
    this.groups = weights.map((w) => {
      const ids = targets.flatMap((t, i) => (t.weight === w ? [i] : []));
      return new RoundRobin(ids.map((i) => targets[i]!), ids);
    });
  }

  pick(input: PickInput): number | undefined {
    if (input.candidates === undefined) {
      // A group is passed over only when all its targets are excluded: O((1 + |exclude|) log n) in all.
      for (const g of this.groups) {
        const t = g.pick(input);
        if (t !== undefined) return t;
      }
      return undefined;
    }
    let best = -1;
    for (const c of input.candidates) {
      if (!isTargetIndex(c, this.groupOf.length) || input.exclude.has(c)) continue;
      const g = this.groupOf[c]!;
      if (best < 0 || g < best) best = g;
    }
    // That group's scheduler ignores candidates of other groups.
    return best < 0 ? undefined : this.groups[best]!.pick(input);
  }

  /** Priority learns nothing from outcomes (the circuit breaker decides availability). */
  finished(_o: Observation): void {}
}
