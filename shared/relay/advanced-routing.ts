// ai-proxy-advanced's routing state for one plugin config: the balancer (algorithm, circuit breakers,
// failover rules) and, for `semantic`, the router with its embeddings model and vector store. Kong
// starts one instance of a config per worker, all in this process: the state is built once per config
// (keyed on the plugin id and the config itself, never on an instance's __seq__) and shared by all.
import { createHash } from 'node:crypto';
import type { KongInstanceMeta, ValueOf } from '../config-schema';
import { sharedState } from '../balancer/shared-state';
import { TargetBalancer } from '../balancer/target-balancer';
import type { TargetSpec } from '../balancer/types';
import type { balancerRecord, targetRecord, vectordbRecord } from '../llm/config-fields';
import { createVectorStore } from '../vectordb/create-store';
import type { VectorDbConfig } from '../vectordb/config';
import { EmbeddingsClient, type EmbeddingsConfig } from './embeddings-client';
import { SemanticRouter } from './semantic-routing';
import type { Relay } from './server';

type TargetRecord = ValueOf<ReturnType<typeof targetRecord>>;
type VectordbRecord = ValueOf<ReturnType<typeof vectordbRecord>>;

export interface AdvancedConfig {
  readonly targets: readonly TargetRecord[];
  readonly balancer: ValueOf<ReturnType<typeof balancerRecord>>;
  readonly embeddings: EmbeddingsConfig | null;
  readonly vectordb: VectordbRecord | null;
}

export interface AdvancedRouting {
  readonly balancer: TargetBalancer;
  readonly semantic: SemanticRouter | null;
}

/** A target's identity for consistent hashing: what it calls, not where it stands in the list. */
export function targetKey(t: TargetRecord): string {
  const o = t.model.options;
  return JSON.stringify([t.route_type, t.model.provider, t.model.name, o?.upstream_url ?? null, o?.upstream_path ?? null,
    o?.azure_instance ?? null, o?.azure_deployment_id ?? null, o?.bedrock?.aws_region ?? null, o?.gemini ?? null]);
}

function semanticRouter(c: AdvancedConfig, pluginId: string, relay: Relay): SemanticRouter | null {
  if (c.balancer.algorithm !== 'semantic' || c.embeddings === null) return null;
  const v = c.vectordb;
  const b = c.balancer;
  const embeddings = new EmbeddingsClient(relay.upstream, c.embeddings, v?.dimensions ?? null,
    { connect: Math.min(b.connect_timeout, b.read_timeout), read: b.read_timeout }, relay.settings.env);
  // Vectors of this config only: a node on another config version (a rolling deploy) keeps its own.
  const hash = createHash('sha256').update(JSON.stringify([c.embeddings.model, v?.dimensions ?? null, c.targets.map((t) => t.description)]))
    .digest('hex').slice(0, 16);
  const makeStore = (dimensions: number) => (v === null || v.strategy === 'memory'
    ? createVectorStore(null, { metric: v?.distance_metric ?? 'cosine', dimensions: v?.dimensions ?? dimensions })
    : createVectorStore(v as VectorDbConfig, { metric: v.distance_metric, dimensions: v.dimensions }));
  return new SemanticRouter(c.targets, embeddings, makeStore, `${pluginId}:${hash}`, v?.threshold ?? null, (m) => relay.warn(m));
}

export function advancedRouting(c: AdvancedConfig, meta: KongInstanceMeta, relay: Relay): AdvancedRouting {
  const pluginId = meta.pluginId ?? '';
  return sharedState(`${pluginId}\u0000${JSON.stringify(c)}`, () => {
    const b = c.balancer;
    const specs: TargetSpec[] = c.targets.map((t) => ({ weight: t.weight, key: targetKey(t) }));
    const balancer = new TargetBalancer(specs, {
      algorithm: b.algorithm,
      slots: b.slots,
      latencyStrategy: b.latency_strategy,
      // 'llm-accuracy' is refused at configuration time.
      tokensCountStrategy: b.tokens_count_strategy === 'llm-accuracy' ? 'total-tokens' : b.tokens_count_strategy,
      retries: b.retries,
      failoverCriteria: b.failover_criteria,
      maxFails: b.max_fails,
      failTimeoutMs: b.fail_timeout,
      hedgeDelayMs: b.hedge_delay,
      hashOnHeader: b.hash_on_header,
    });
    relay.metrics.trackBalancer(pluginId, c.targets.map((t, i) => ({ index: i, provider: t.model.provider, model: t.model.name ?? '' })), balancer);
    return { balancer, semantic: semanticRouter(c, pluginId, relay) };
  });
}
