// ai-proxy-advanced: many targets behind one route, configuration-compatible with Kong's
// ai-proxy-advanced (3.13): every balancer algorithm, retries and failover across providers as
// failover_criteria allow, a circuit breaker per target, semantic routing; and hedging (ours, off by
// default). The access phase only hands the request over: the relay picks a target, and moves on to
// another before the first byte reaches the client when one fails (shared/relay/handle-request.ts).
import { arr, bool, defineConfig, instanceMeta, int, str, type ConfigOf } from '../shared/config-schema';
import {
  balancerRecord, embeddingsChecks, embeddingsRecord, llmFormatChecks, modelChecks, targetChecks, targetRecord, vectordbRecord,
} from '../shared/llm/config-fields';
import type { KongPDK } from '../shared/kong/pdk';
import { advancedRouting } from '../shared/relay/advanced-routing';
import { Handoff } from '../shared/relay/handoff';
import { targetServesRouteType } from '../shared/relay/prepare';
import { sharedRelay } from '../shared/relay/server';
import { ServiceLookup } from '../shared/relay/service-lookup';
import { readMargin } from '../shared/relay/timeouts';
import { isNativeFormat } from '../shared/native/formats';
import { PACKAGE_VERSION } from '../shared/version';

const KONG_MAX_TIMEOUT = 2147483646;

const config = defineConfig({
  targets: arr(targetRecord(), { required: true, len_min: 1 }),
  balancer: balancerRecord(),
  embeddings: embeddingsRecord(),
  vectordb: vectordbRecord(),
  response_streaming: str({ default: 'allow', one_of: ['allow', 'deny', 'always'] }),
  model_name_header: bool({ default: true }),
  max_request_body_size: int({ default: 1048576, gt: 0 }),
  llm_format: str({ default: 'openai', one_of: ['openai', 'bedrock', 'gemini', 'cohere', 'huggingface', 'anthropic'] }),
  genai_category: str({ default: 'text/generation', one_of: ['text/generation', 'text/embeddings', 'audio/speech', 'audio/transcription', 'image/generation', 'realtime/generation', 'video/generation'] }),
}, {
  checks: [
    // Kong's schema lists cohere and huggingface too; only the formats ai-proxy serves natively are served.
    (c) => (c.llm_format === 'openai' || isNativeFormat(c.llm_format) ? undefined
      : `llm_format '${c.llm_format}' (the provider's native API) is not supported by this build; use 'openai', 'gemini', 'bedrock' or 'anthropic'`),
    // A native format is one provider's API: every target speaks it (ai-proxy's rules, per target).
    (c) => {
      if (c.llm_format === 'openai') return undefined;
      for (const [i, t] of c.targets.entries()) {
        const m = llmFormatChecks().map((check) => check({ ...t, llm_format: c.llm_format })).find((x) => x !== undefined);
        if (m !== undefined) return `config.targets[${i}]: ${m}`;
      }
      return undefined;
    },
    // Semantic routing embeds an OpenAI-shaped prompt.
    (c) => (c.llm_format === 'openai' || c.balancer.algorithm !== 'semantic' ? undefined
      : `balancer.algorithm 'semantic' is not supported with llm_format '${c.llm_format}' (semantic routing reads OpenAI-format prompts)`),
    (c) => (c.genai_category === 'text/generation' || c.genai_category === 'text/embeddings' ? undefined
      : `config.genai_category: '${c.genai_category}' is not supported by this build (text/generation and text/embeddings are)`),
    (c) => {
      for (const [i, t] of c.targets.entries()) {
        for (const check of [...modelChecks(`targets[${i}].`), ...targetChecks(targetServesRouteType, `targets[${i}].`)]) {
          const m = check(t);
          if (m !== undefined) return `config.targets[${i}]: ${m}`;
        }
      }
      return undefined;
    },
    // One route, one API: a chat request cannot fail over to an embeddings target.
    (c) => (c.targets.every((t) => t.route_type === c.targets[0]!.route_type) ? undefined : 'mixing different route types are not supported'),
    (c) => (c.balancer.algorithm !== 'semantic' || c.targets.every((t) => t.description !== null) ? undefined
      : 'description field is required for every target in config.targets array'),
    (c) => (c.balancer.algorithm !== 'semantic' || c.embeddings !== null ? undefined
      : 'config.embeddings: required when balancer.algorithm is semantic (the model that embeds descriptions and prompts)'),
    // The embeddings model is called only by semantic routing; unused otherwise, it is not checked.
    (c) => {
      if (c.balancer.algorithm !== 'semantic' || c.embeddings === null) return undefined;
      for (const check of embeddingsChecks()) {
        const m = check(c.embeddings);
        if (m !== undefined) return m;
      }
      return undefined;
    },
    (c) => {
      // Kong allows 0 (no timeout); a store that can wait forever would hang requests.
      const r = c.vectordb?.strategy === 'redis' ? c.vectordb.redis : null;
      const zero = r && (['connect_timeout', 'read_timeout', 'send_timeout'] as const).find((k) => r[k] === 0);
      return zero ? `config.vectordb.redis.${zero}: 0 (no timeout) is not supported; give it in ms` : undefined;
    },
    (c) => (c.balancer.tokens_count_strategy !== 'llm-accuracy' ? undefined
      : "config.balancer.tokens_count_strategy: 'llm-accuracy' needs Kong's ai-llm-as-judge plugin, which this build does not have"),
    (c) => (c.balancer.algorithm !== 'lowest-usage' || c.balancer.tokens_count_strategy !== 'cost'
      || c.targets.every((t) => t.model.options?.input_cost != null && t.model.options?.output_cost != null) ? undefined
      : "config.balancer.tokens_count_strategy 'cost' needs model.options.input_cost and output_cost on every target"),
  ],
});

export type AiProxyAdvancedConfig = ConfigOf<typeof config>;

class AiProxyAdvanced {
  private readonly service: ServiceLookup;
  private readonly handoff: Handoff;
  /** Kong's timeouts to the relay: long enough for every attempt the relay may make. */
  private readonly kongTimeouts: readonly [connect: number, write: number, read: number];
  private readonly attemptTimeouts: { connect: number; read: number };

  constructor(raw: unknown) {
    const c = config.parse(raw);
    const meta = instanceMeta(raw);
    const b = c.balancer;
    this.service = new ServiceLookup(meta);
    const relay = sharedRelay('ai-proxy-advanced');
    // Shared by every worker's instance of this config (keyed on the config, never on the instance).
    const routing = advancedRouting(c, meta, relay);
    this.handoff = new Handoff({
      plugin: 'ai-proxy-advanced',
      targets: c.targets,
      router: routing.balancer,
      ...(routing.semantic ? { semantic: routing.semantic } : {}),
      responseStreaming: c.response_streaming,
      modelNameHeader: c.model_name_header,
      maxRequestBodySize: c.max_request_body_size,
      meta,
      ...(isNativeFormat(c.llm_format) ? { llmFormat: c.llm_format } : {}),
    });
    const attempts = Math.min(1 + b.retries, c.targets.length);
    const read = Math.min(KONG_MAX_TIMEOUT, attempts * (b.read_timeout + readMargin(b.read_timeout)) + 1);
    this.kongTimeouts = [b.connect_timeout, b.write_timeout, read];
    this.attemptTimeouts = { connect: Math.min(b.connect_timeout, b.read_timeout), read: b.read_timeout };
  }

  async access(kong: KongPDK): Promise<void> {
    const startedAt = Date.now();
    const service = await this.service.get(kong);
    // Kong's timeouts to the relay must cover every attempt; a Service that already allows that long
    // needs no change (a round trip saved).
    const [connect, write, read] = this.kongTimeouts;
    const t = service.kongTimeouts;
    if (t.connect < connect || t.write < write || t.read < read) await kong.service.setTimeouts(connect, write, read);
    await this.handoff.handOff(kong, { service, startedAt, timeouts: this.attemptTimeouts });
  }
}

export const Plugin = AiProxyAdvanced;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 770;
