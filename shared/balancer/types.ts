// The one interface every balancer algorithm has (shared/balancer/): pick a target for a request, hear
// how the attempt went. Pure: no HTTP, no Kong, no clock of its own (callers pass `now`, in ms). State
// lives in the plugin server, one per plugin config, shared by every Kong worker's instance of it.

/** What an algorithm knows of a target: its weight (1-65535) and a stable identity (consistent hashing). */
export interface TargetSpec {
  readonly weight: number;
  /** Identifies the target across config changes (not its index): provider, model, URL... */
  readonly key: string;
}

export interface PickInput {
  /** Targets this pick must not return: tried in this request, circuit open, rate-limited. */
  readonly exclude: ReadonlySet<number>;
  /** Only these targets (semantic routing's match); undefined: all. */
  readonly candidates?: readonly number[];
  /** consistent-hashing: the value of the `hash_on_header` header; undefined when the request has none. */
  readonly hashKey?: string;
  readonly now: number;
}

/** How one attempt on a target ended, for the algorithms that learn from it. */
export interface Observation {
  readonly target: number;
  readonly now: number;
  /** The provider answered with a usable answer. */
  readonly ok: boolean;
  /** ms from the attempt's start to the end of the provider's answer (or of the failure). */
  readonly latencyMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  /** The attempt's cost (input_cost/output_cost), 0 when not configured. */
  readonly cost: number;
}

export interface Algorithm {
  /**
   * A target index for this request, or undefined when every allowed target is excluded. A returned
   * pick is an attempt in flight until `finished` is called for it, exactly once.
   */
  pick(input: PickInput): number | undefined;
  /** The attempt of a pick ended (successfully or not). */
  finished(o: Observation): void;
}

export type AlgorithmName = 'round-robin' | 'consistent-hashing' | 'lowest-latency' | 'lowest-usage' | 'priority'
  | 'least-connections' | 'semantic';

export type TokensCountStrategy = 'total-tokens' | 'prompt-tokens' | 'completion-tokens' | 'cost';
export type LatencyStrategy = 'tpot' | 'e2e';
