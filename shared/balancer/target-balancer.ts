// ai-proxy-advanced's balancer for one plugin config, shared by every Kong worker's instance of it: the
// configured algorithm, each target's health (circuit breaker, Retry-After), the failover rules, and
// the counts the metrics show. Pure: the relay tells it when attempts start and end.
import type { FailoverCriterion } from '../llm/config-fields';
import { TargetHealth, type CircuitState } from './circuit-breaker';
import { createAlgorithm } from './create-algorithm';
import { breakerOutcome, mayTryNext, type AttemptFailure } from './failover-policy';
import type { Algorithm, AlgorithmName, LatencyStrategy, TargetSpec, TokensCountStrategy } from './types';

/** A pick: a target's index, or none (every allowed target tried, open or rate-limited). */
export type TargetChoice =
  | { readonly index: number }
  | { readonly index: undefined; readonly reason: 'tried' | 'unavailable'; readonly retryAfterMs?: number };

/** How one attempt on one target went, for the balancer's algorithm, circuit breaker and metrics. */
export interface AttemptReport {
  readonly target: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** undefined: a usable answer. */
  readonly failure?: AttemptFailure;
  /** Neither a success nor a failure: abandoned (a hedge that lost, a client that went away). */
  readonly abandoned?: boolean;
  /** A 429's Retry-After, in ms. */
  readonly retryAfterMs?: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cost: number;
}

export interface BalancerSettings {
  readonly algorithm: AlgorithmName;
  readonly slots: number;
  readonly latencyStrategy: LatencyStrategy;
  readonly tokensCountStrategy: TokensCountStrategy;
  readonly retries: number;
  readonly failoverCriteria: readonly FailoverCriterion[];
  readonly maxFails: number;
  readonly failTimeoutMs: number;
  readonly hedgeDelayMs: number | null;
  /** consistent-hashing's header (hash_on_header). */
  readonly hashOnHeader: string;
}

/** One target as the metrics show it. */
export interface TargetStatus {
  readonly state: CircuitState;
  readonly rateLimited: boolean;
  /** Attempts that counted as failures, since the config was loaded. */
  readonly failures: number;
  readonly attempts: number;
}

export class TargetBalancer {
  readonly retries: number;
  readonly hedgeDelayMs: number | null;
  readonly hashHeader: string | null;
  private readonly algorithm: Algorithm;
  private readonly health: TargetHealth;
  private readonly criteria: ReadonlySet<FailoverCriterion>;
  private readonly failures: number[];
  private readonly attempts: number[];

  constructor(private readonly targets: readonly TargetSpec[], s: BalancerSettings) {
    this.algorithm = createAlgorithm(s.algorithm, targets, s);
    this.health = new TargetHealth(targets.length, { maxFails: s.maxFails, failTimeoutMs: s.failTimeoutMs });
    this.criteria = new Set(s.failoverCriteria);
    this.retries = s.retries;
    this.hedgeDelayMs = s.hedgeDelayMs;
    this.hashHeader = s.algorithm === 'consistent-hashing' ? s.hashOnHeader.toLowerCase() : null;
    this.failures = targets.map(() => 0);
    this.attempts = targets.map(() => 0);
  }

  choose(tried: ReadonlySet<number>, hashKey: string | undefined, candidates: readonly number[] | undefined, now: number): TargetChoice {
    const exclude = new Set(tried);
    for (let i = 0; i < this.targets.length; i++) if (!this.health.available(i, now)) exclude.add(i);
    const index = this.algorithm.pick({ exclude, now, ...(candidates ? { candidates } : {}), ...(hashKey !== undefined ? { hashKey } : {}) });
    if (index !== undefined) {
      this.health.attemptStarted(index, now);
      this.attempts[index]!++;
      return { index };
    }
    const allowed = candidates ?? this.targets.map((_, i) => i);
    const left = allowed.filter((i) => !tried.has(i));
    if (left.length === 0) return { index: undefined, reason: 'tried' };
    // Every one left is out: if only because of rate limits, the client can be told when to come back.
    let soonest = Infinity;
    for (const i of left) {
      const until = this.health.rateLimitedUntil(i, now);
      if (until === 0 || this.health.state(i, now) === 'open') return { index: undefined, reason: 'unavailable' };
      soonest = Math.min(soonest, until);
    }
    return { index: undefined, reason: 'unavailable', retryAfterMs: soonest - now };
  }

  /** An attempt on a target ended: what it was, for the algorithm, the circuit breaker and the metrics. */
  ended(r: AttemptReport): void {
    const ok = r.failure === undefined && !r.abandoned;
    this.algorithm.finished({
      target: r.target, now: r.endedAt, ok, latencyMs: r.endedAt - r.startedAt,
      promptTokens: r.promptTokens, completionTokens: r.completionTokens, totalTokens: r.totalTokens, cost: r.cost,
    });
    const outcome = r.abandoned ? 'neutral' : breakerOutcome(r.failure, this.criteria);
    this.health.attemptEnded(r.target, r.endedAt, outcome);
    if (outcome === 'failure') this.failures[r.target]!++;
    if (r.retryAfterMs !== undefined) this.health.rateLimited(r.target, r.endedAt, r.retryAfterMs);
  }

  /** Whether a failure may move on to another target (failover_criteria, non_idempotent). */
  mayTryNext(failure: AttemptFailure): boolean {
    return mayTryNext(failure, this.criteria);
  }

  /** Every target's state, for the metrics. */
  status(now: number): TargetStatus[] {
    return this.targets.map((_, i) => ({
      state: this.health.state(i, now),
      rateLimited: this.health.rateLimitedUntil(i, now) > 0,
      failures: this.failures[i]!,
      attempts: this.attempts[i]!,
    }));
  }
}
