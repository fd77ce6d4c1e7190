// ai-proxy-advanced: many targets behind one route. Configuration-compatible with Kong's
// ai-proxy-advanced (targets, balancer). At this stage it balances OpenAI-format targets with weighted
// round-robin; the other algorithms, retries, failover and health come with their own issue.
import { arr, defineConfig, instanceMeta, int, record, str, bool, type ConfigOf } from '../shared/config-schema';
import { authRecord, loggingRecord, modelChecks, modelRecord, ROUTE_TYPES, supportedProviderCheck } from '../shared/llm/config-fields';
import { forwardToOpenAICompatible } from '../shared/llm/forward';
import { WeightedRoundRobin } from '../shared/balancer/weighted-round-robin';
import { sharedState } from '../shared/balancer/shared-state';
import type { KongPDK } from '../shared/kong/pdk';
import { PACKAGE_VERSION } from '../shared/version';

const target = record({
  route_type: str({ required: true, one_of: ROUTE_TYPES }),
  auth: authRecord(),
  model: modelRecord(),
  logging: loggingRecord(),
  weight: int({ default: 100, between: [1, 65535] }),
  description: str(),
});

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
    (c) => {
      for (const [i, t] of c.targets.entries()) {
        for (const check of [...modelChecks(`targets[${i}].`), supportedProviderCheck(`targets[${i}].`)]) {
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
  private readonly balancer: WeightedRoundRobin<Target>;
  private readonly pluginId: string | null;

  constructor(raw: unknown) {
    this.config = config.parse(raw);
    const meta = instanceMeta(raw);
    this.pluginId = meta.pluginId;
    const targets = this.config.targets;
    this.balancer = sharedState(`${meta.pluginId}:${meta.seq}:${JSON.stringify(targets)}`,
      () => new WeightedRoundRobin(targets, targets.map((t) => t.weight)));
  }

  async access(kong: KongPDK): Promise<void> {
    const t = this.balancer.next();
    await kong.service.setTimeouts(this.config.balancer.connect_timeout, this.config.balancer.write_timeout, this.config.balancer.read_timeout);
    await forwardToOpenAICompatible(kong, {
      route_type: t.route_type, auth: t.auth, model: t.model, logging: t.logging,
      response_streaming: this.config.response_streaming, max_request_body_size: this.config.max_request_body_size,
    }, this.pluginId);
  }
}

export const Plugin = AiProxyAdvanced;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 770;
