// The balancer algorithm named by the config (balancer.algorithm), over the config's targets.
import { ConsistentHashing } from './consistent-hashing';
import { LeastConnections } from './least-connections';
import { LowestLatency } from './lowest-latency';
import { LowestUsage } from './lowest-usage';
import { Priority } from './priority';
import { RoundRobin } from './round-robin';
import { Semantic } from './semantic';
import type { Algorithm, AlgorithmName, LatencyStrategy, TargetSpec, TokensCountStrategy } from './types';

export interface AlgorithmOptions {
  /** balancer.slots (consistent-hashing), 10-65536. */
  readonly slots: number;
  readonly latencyStrategy: LatencyStrategy;
  readonly tokensCountStrategy: TokensCountStrategy;
}

export function createAlgorithm(name: AlgorithmName, targets: readonly TargetSpec[], options: AlgorithmOptions): Algorithm {
  switch (name) {
    case 'round-robin': return new RoundRobin(targets);
    case 'consistent-hashing': return new ConsistentHashing(targets, options.slots);
    case 'lowest-latency': return new LowestLatency(targets, options.latencyStrategy);
    case 'lowest-usage': return new LowestUsage(targets, options.tokensCountStrategy);
    case 'priority': return new Priority(targets);
    case 'least-connections': return new LeastConnections(targets);
    case 'semantic': return new Semantic(targets);
  }
}
