// Least connections: attempts in flight relative to weight, (inFlight + 1) / weight, lowest wins: a
// target of weight 2 takes twice the concurrent attempts of one of weight 1. In flight from pick() to
// finished(). Equal scores go to the target picked least recently, so idle targets take turns.
import { IndexedMinHeap } from './binary-heap';
import { lowestAllowed } from './lowest-allowed';
import { checkTargetIndex, checkTargets } from './targets';
import type { Algorithm, Observation, PickInput, TargetSpec } from './types';

export class LeastConnections implements Algorithm {
  private readonly weights: Float64Array;
  private readonly inFlight: Int32Array;
  private readonly heap: IndexedMinHeap;
  private picks = 0;

  constructor(targets: readonly TargetSpec[]) {
    checkTargets(targets);
    this.weights = Float64Array.from(targets, (t) => t.weight);
    this.inFlight = new Int32Array(targets.length);
    this.heap = new IndexedMinHeap(targets.length);
    for (let i = 0; i < targets.length; i++) this.rekey(i, 0);
  }

  pick(input: PickInput): number | undefined {
    const t = lowestAllowed(this.heap, input);
    if (t === undefined) return undefined;
    this.inFlight[t]!++;
    this.rekey(t, ++this.picks);
    return t;
  }

  finished(o: Observation): void {
    const i = checkTargetIndex(o.target, this.weights.length);
    this.inFlight[i] = Math.max(0, this.inFlight[i]! - 1);
    this.rekey(i, this.heap.tie(i));
  }

  /** lastPick: the tie key, the sequence number of the target's last pick. */
  private rekey(i: number, lastPick: number): void {
    this.heap.set(i, (this.inFlight[i]! + 1) / this.weights[i]!, lastPick);
  }
}
