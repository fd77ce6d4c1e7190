// Lowest usage: a decaying total of each target's usage (tokens or cost, per tokens_count_strategy;
// time constant 10 s), relative to weight; the lowest wins. As in lowest-latency, U(t) = S * exp(-(t -
// t_s) / tau) for all targets alike, so ln(S / weight) + t_s / tau orders them at any time: that is the
// heap key, changed only by a pick or an outcome (O(log n)).
//
// Usage is known only when an attempt ends, so a burst of concurrent picks would all go to the same
// target: pick() adds a provisional amount (the target's mean per finished request, 1 before any) and
// finished() replaces it with the real one.
import { IndexedMinHeap } from './binary-heap';
import { lowestAllowed } from './lowest-allowed';
import { checkTargetIndex, checkTargets } from './targets';
import type { Algorithm, Observation, PickInput, TargetSpec, TokensCountStrategy } from './types';

const TAU_MS = 10_000;
/**
 * Each ended attempt counts at least this much: with usage always 0 (cost not configured) targets are
 * still balanced, by their decaying attempt counts, instead of all traffic going to the first.
 */
const MIN_AMOUNT = 1e-9;

export class LowestUsage implements Algorithm {
  private readonly weights: Float64Array;
  /** Reported usage and provisional usage of attempts in flight, both as of times[i]. */
  private readonly real: Float64Array;
  private readonly pending: Float64Array;
  private readonly pendingCount: Int32Array;
  private readonly times: Float64Array;
  private readonly reportedSum: Float64Array;
  private readonly reportedCount: Float64Array;
  private readonly heap: IndexedMinHeap;

  constructor(targets: readonly TargetSpec[], private readonly strategy: TokensCountStrategy) {
    checkTargets(targets);
    const n = targets.length;
    this.weights = Float64Array.from(targets, (t) => t.weight);
    this.real = new Float64Array(n);
    this.pending = new Float64Array(n);
    this.pendingCount = new Int32Array(n);
    this.times = new Float64Array(n);
    this.reportedSum = new Float64Array(n);
    this.reportedCount = new Float64Array(n);
    // No usage yet: every target at -Infinity, ties by index.
    this.heap = new IndexedMinHeap(n, -Infinity);
  }

  pick(input: PickInput): number | undefined {
    const t = lowestAllowed(this.heap, input);
    if (t === undefined) return undefined;
    this.decayTo(t, input.now);
    this.pending[t]! += this.provisional(t);
    this.pendingCount[t]!++;
    this.rekey(t);
    return t;
  }

  finished(o: Observation): void {
    const i = checkTargetIndex(o.target, this.weights.length);
    this.decayTo(i, o.now);
    const inFlight = this.pendingCount[i]!;
    if (inFlight > 0) {
      // Which pick this was is unknown: take back the average provisional amount (exactly all at the last).
      this.pending[i] = inFlight === 1 ? 0 : this.pending[i]! * (inFlight - 1) / inFlight;
      this.pendingCount[i] = inFlight - 1;
    }
    const amount = this.amount(o);
    if (o.ok && amount !== undefined) {
      this.reportedSum[i]! += amount;
      this.reportedCount[i]!++;
    }
    // A failed attempt counts as an average one: failing fast must not make a target look unused.
    const counted = o.ok && amount !== undefined ? amount : this.provisional(i);
    this.real[i]! += Math.max(MIN_AMOUNT, counted);
    this.rekey(i);
  }

  private amount(o: Observation): number | undefined {
    const a = this.strategy === 'prompt-tokens' ? o.promptTokens
      : this.strategy === 'completion-tokens' ? o.completionTokens
      : this.strategy === 'total-tokens' ? o.totalTokens
      : o.cost;
    return Number.isFinite(a) && a >= 0 ? a : undefined;
  }

  private provisional(i: number): number {
    const mean = this.reportedCount[i]! > 0 ? this.reportedSum[i]! / this.reportedCount[i]! : 0;
    return mean > 0 ? mean : 1;
  }

  /** Brings target i's totals to time `now` (an older `now` adds to them undecayed). */
  private decayTo(i: number, now: number): void {
    const dt = now - this.times[i]!;
    if (dt <= 0) return;
    const w = Math.exp(-dt / TAU_MS);
    this.real[i]! *= w;
    this.pending[i]! *= w;
    this.times[i] = now;
  }

  private rekey(i: number): void {
    const total = this.real[i]! + this.pending[i]!;
    const key = total > 0 ? Math.log(total / this.weights[i]!) + this.times[i]! / TAU_MS : -Infinity;
    // Tie key: among targets with no usage yet, spread concurrent picks.
    this.heap.set(i, key, this.pendingCount[i]!);
  }
}
