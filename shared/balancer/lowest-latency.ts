// Lowest latency: a peak EWMA of each target's latency with time decay (time constant 10 s, as Kong),
// scored value * (inFlight + 1) / weight; the lowest score wins.
//
// With one time constant for all, a target's value at time t is v * exp(-(t - t_obs) / tau), so the
// order of scores equals the order of ln(v / weight) + t_obs / tau + ln(inFlight + 1), which does not
// change as time passes: that is the heap key, updated only when a target's state changes (O(log n)).
// Idle targets decay toward 0 relative to the others, so a slow target is eventually tried again.
import { IndexedMinHeap } from './binary-heap';
import { lowestAllowed } from './lowest-allowed';
import { checkTargetIndex, checkTargets } from './targets';
import type { Algorithm, LatencyStrategy, Observation, PickInput, TargetSpec } from './types';

const TAU_MS = 10_000;
/** Every 50th pick (2%) is a probe: a recovered target must be seen again to win traffic back. */
const PROBE_EVERY = 50;
const MIN_PENALTY_MS = 1000;
/** Keeps ln(value) finite: a 0 ms answer is simply very fast. */
const MIN_VALUE = 1e-3;

export class LowestLatency implements Algorithm {
  private readonly weights: Float64Array;
  /** values[i] as of times[i]. */
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private readonly observed: Uint8Array;
  private readonly inFlight: Int32Array;
  private readonly score: IndexedMinHeap;
  /** Key: the last time a target was observed or probed (-Infinity: never); lowest = least recently seen. */
  private readonly seen: IndexedMinHeap;
  /** A decaying peak of successful samples over all targets, the base of the failure penalty. */
  private slowestOk = 0;
  private slowestOkAt = 0;
  private picks = 0;
  private totalInFlight = 0;

  constructor(targets: readonly TargetSpec[], private readonly strategy: LatencyStrategy) {
    checkTargets(targets);
    const n = targets.length;
    this.weights = Float64Array.from(targets, (t) => t.weight);
    this.values = new Float64Array(n);
    this.times = new Float64Array(n);
    this.observed = new Uint8Array(n);
    this.inFlight = new Int32Array(n);
    // Never-observed targets score -Infinity: they are tried first.
    this.score = new IndexedMinHeap(n, -Infinity);
    this.seen = new IndexedMinHeap(n, -Infinity);
  }

  pick(input: PickInput): number | undefined {
    // Probes go to the target seen least recently; counting picks keeps this deterministic.
    const probe = (this.picks + 1) % PROBE_EVERY === 0;
    const t = lowestAllowed(probe ? this.seen : this.score, input);
    if (t === undefined) return undefined;
    this.picks++;
    // Stamping a probe spreads consecutive probes over several stale targets.
    if (probe) this.seen.set(t, Math.max(this.seen.key(t), input.now));
    this.inFlight[t]!++;
    this.totalInFlight++;
    this.rescore(t);
    return t;
  }

  finished(o: Observation): void {
    const i = checkTargetIndex(o.target, this.weights.length);
    if (this.inFlight[i]! > 0) {
      this.inFlight[i]!--;
      this.totalInFlight--;
    }
    const x = this.sample(o);
    if (x !== undefined) this.observe(i, Math.max(MIN_VALUE, x), o.now);
    this.seen.set(i, Math.max(this.seen.key(i), o.now));
    this.rescore(i);
  }

  /**
   * The latency figure an attempt contributes, or undefined when it says nothing. A failure records a
   * penalty, so a target that fails fast does not look fastest: the larger of its own figure, 1000 ms,
   * and twice the slowest recent successful figure times (1 + attempts in flight on all targets). The
   * load factor: scores multiply by in-flight counts, so a penalty blind to load would still win
   * whenever the healthy targets are busy. Successful samples only as the base: penalties cannot feed
   * on each other and grow without bound while every target fails.
   */
  private sample(o: Observation): number | undefined {
    const raw = this.strategy === 'tpot' ? o.latencyMs / Math.max(1, o.completionTokens) : o.latencyMs;
    if (!Number.isFinite(raw) || raw < 0) return undefined;
    if (!o.ok) return Math.max(raw, 2 * this.slowestOkAtTime(o.now) * (1 + this.totalInFlight), MIN_PENALTY_MS);
    // An answer without tokens has no time per token; recording 0 would make it look fastest.
    if (this.strategy === 'tpot' && o.completionTokens === 0) return undefined;
    this.slowestOk = Math.max(this.slowestOkAtTime(o.now), raw);
    this.slowestOkAt = Math.max(this.slowestOkAt, o.now);
    return raw;
  }

  private slowestOkAtTime(now: number): number {
    return this.slowestOk * Math.exp(-Math.max(0, now - this.slowestOkAt) / TAU_MS);
  }

  /** Peak EWMA: a higher sample is taken at once, a lower one blends in by the time since the last. */
  private observe(i: number, x: number, now: number): void {
    const v = this.values[i]!;
    if (this.observed[i] === 0 || x > v) {
      this.values[i] = x;
    } else {
      const w = Math.exp(-Math.max(0, now - this.times[i]!) / TAU_MS);
      this.values[i] = v * w + x * (1 - w);
    }
    this.times[i] = Math.max(this.times[i]!, now);
    this.observed[i] = 1;
  }

  private rescore(i: number): void {
    const inFlight = this.inFlight[i]!;
    const key = this.observed[i] === 0
      ? -Infinity
      : Math.log(this.values[i]! / this.weights[i]!) + this.times[i]! / TAU_MS + Math.log(inFlight + 1);
    // Tie key: concurrent picks among never-observed targets spread instead of all taking the first.
    this.score.set(i, key, inFlight);
  }
}
