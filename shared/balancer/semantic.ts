// Semantic routing's pick. The relay matches the prompt against the targets' descriptions by vector
// search and passes the matching group as `candidates`; targets with identical descriptions form one
// group (groupByDescription). Within the candidates the pick is priority's: highest weight first,
// round-robin among equal weights, so a failed primary falls back to the rest of its group.
// Undefined candidates: no restriction.
import { Priority } from './priority';
import type { Algorithm, Observation, PickInput, TargetSpec } from './types';

/** Target indices grouped by identical description, groups in order of first appearance. */
export function groupByDescription(descriptions: readonly string[]): number[][] {
  const groups = new Map<string, number[]>();
  descriptions.forEach((d, i) => {
    const g = groups.get(d);
    if (g === undefined) groups.set(d, [i]);
    else g.push(i);
  });
  return [...groups.values()];
}

export class Semantic implements Algorithm {
  private readonly priority: Priority;

  constructor(targets: readonly TargetSpec[]) {
    this.priority = new Priority(targets);
  }

  pick(input: PickInput): number | undefined {
    return this.priority.pick(input);
  }

  finished(o: Observation): void {
    this.priority.finished(o);
  }
}
