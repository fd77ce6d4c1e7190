// ai-proxy-advanced: many targets behind one route. Configuration-compatible with Kong's
// ai-proxy-advanced (targets, balancer). Weighted round-robin picks a target in access; the request then
// goes through the same loopback relay as ai-proxy, with the chosen target's config and the balancer's
// timeouts. The other algorithms, retries, failover and health come with their own issue.
import { arr, defineConfig, instanceMeta, int, record, str, bool, type ConfigOf, type KongInstanceMeta } from '../shared/config-schema';
import { authRecord, availableProviderCheck, loggingRecord, modelChecks, modelRecord, ROUTE_TYPES } from '../shared/llm/config-fields';
import { WeightedRoundRobin } from '../shared/balancer/weighted-round-robin';
import { sharedState } from '../shared/balancer/shared-state';
import type { KongPDK } from '../shared/kong/pdk';
import { handOff } from '../shared/relay/handoff';
import { resolveProvider } from '../shared/relay/prepare';
import { sharedRelay } from '../shared/relay/server';
import { readMargin } from '../shared/relay/timeouts';
import { ServiceLookup } from '../shared/relay/service-lookup';
import { PACKAGE_VERSION } from '../shared/version';

const target = record({
  route_type: str({ required: true, one_of: ROUTE_TYPES }),
  auth: authRecord(),
  model: modelRecord(),
  logging: loggingRecord(),
  weight: int({ default: 100, between: [1, 65535] }),
  description: str(),
});

const available = availableProviderCheck((m) => resolveProvider(m) !== undefined);

const config = defineConfig({
  targets: arr(target, { required: true, len_min: 1 }),
  balancer: record({
    algorithm: str({ default: 'round-robin', one_of: ['round-robin', 'consistent-hashing', 'lowest-latency', 'lowest-usage', 'priority', 'semantic'] }),
    tokens_count_strategy: str({ default: 'total-tokens', one_of: ['total-tokens', 'prompt-tokens', 'completion-tokens', 'cost'] }),
    latency_strategy: str({ default: 'tpot', one_of: ['tpot', 'e2e'] }),
    hash_on_header: str({ default: 'X-Kong-LLM-Request-ID' }),
    slots: int({ default: 10000, between: [10, 65536] }),
    retries: int({ default: 5, between: [0, 32767] }),
    connect_timeout: int({ default: 60000, between: [1, 2147483646] }),
    read_timeout: int({ default: 60000, between: [1, 2147483646] }),
    write_timeout: int({ default: 60000, between: [1, 2147483646] }),
  }),
  response_streaming: str({ default: 'allow', one_of: ['allow', 'deny', 'always'] }),
  model_name_header: bool({ default: true }),
  max_request_body_size: int({ default: 8192, gt: 0 }),
  llm_format: str({ default: 'openai', one_of: ['openai', 'bedrock', 'gemini'] }),
}, {
  checks: [
    (c) => (c.balancer.algorithm === 'round-robin' ? undefined
      : `config.balancer.algorithm: '${c.balancer.algorithm}' is not supported by this build yet (round-robin only)`),
    (c) => (c.llm_format === 'openai' ? undefined
      : `llm_format '${c.llm_format}' (the provider's native API) is not supported by this build yet; use 'openai'`),
    (c) => {
      for (const [i, t] of c.targets.entries()) {
        for (const check of [...modelChecks(`targets[${i}].`), available]) {
          const m = check(t);
          if (m !== undefined) return `config.targets[${i}]: ${m}`;
        }
      }
      return undefined;
    },
  ],
});

export type AiProxyAdvancedConfig = ConfigOf<typeof config>;
type Target = AiProxyAdvancedConfig['targets'][number];

class AiProxyAdvanced {
  private readonly config: AiProxyAdvancedConfig;
  private readonly balancer: WeightedRoundRobin<number>;
  private readonly meta: KongInstanceMeta;
  /** Its id goes in the relay's log line (the balancer's timeouts apply, not the Service's). */
  private readonly service: ServiceLookup;

  constructor(raw: unknown) {
    this.config = config.parse(raw);
    this.meta = instanceMeta(raw);
    this.service = new ServiceLookup(this.meta);
    const targets: readonly Target[] = this.config.targets;
    // Every Kong worker starts its own instance of this config, each with its own __seq__: the state is
    // keyed on what identifies the config (the plugin id and the config itself), never on the instance.
    this.balancer = sharedState(`${this.meta.pluginId}\u0000${JSON.stringify(this.config)}`,
      () => new WeightedRoundRobin(targets.map((_, i) => i), targets.map((t) => t.weight)));
    sharedRelay('ai-proxy-advanced');
  }

  async access(kong: KongPDK): Promise<void> {
    const startedAt = Date.now();
    const c = this.config;
    const b = c.balancer;
    const index = this.balancer.next();
    const service = await this.service.get(kong);
    // The relay waits for the provider as long as the balancer says; Kong waits for the relay a little longer.
    await kong.service.setTimeouts(b.connect_timeout, b.write_timeout, b.read_timeout + readMargin(b.read_timeout) + 1);
    await handOff(kong, {
      plugin: 'ai-proxy-advanced',
      target: c.targets[index]!,
      responseStreaming: c.response_streaming,
      modelNameHeader: c.model_name_header,
      maxRequestBodySize: c.max_request_body_size,
      meta: this.meta,
      serviceId: service.id,
      startedAt,
      timeouts: { connect: Math.min(b.connect_timeout, b.read_timeout), read: b.read_timeout },
      targetIndex: index,
    });
  }
}

export const Plugin = AiProxyAdvanced;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 770;
