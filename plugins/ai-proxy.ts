// ai-proxy: one route, one model, any provider, an OpenAI-compatible API. Configuration-compatible with
// Kong's own ai-proxy (3.9). Kong gives external plugins no body filter, so the access phase hands the
// request over to a loopback relay in this process (shared/relay/), which checks it, calls the provider
// and writes the translated answer, streams chunk by chunk, back through Kong.
import { defineConfig, instanceMeta, int, str, bool, type ConfigOf, type KongInstanceMeta } from '../shared/config-schema';
import { authRecord, availableProviderCheck, llmFormatChecks, loggingRecord, modelChecks, modelRecord, ROUTE_TYPES } from '../shared/llm/config-fields';
import type { KongPDK } from '../shared/kong/pdk';
import { handOff } from '../shared/relay/handoff';
import { resolveProvider } from '../shared/relay/prepare';
import { sharedRelay } from '../shared/relay/server';
import { ServiceLookup } from '../shared/relay/service-lookup';
import { PACKAGE_VERSION } from '../shared/version';

const config = defineConfig({
  route_type: str({ required: true, one_of: ROUTE_TYPES, description: 'The model API this route serves: chat, completions, embeddings or preserve.' }),
  auth: authRecord(),
  model: modelRecord(),
  logging: loggingRecord(),
  response_streaming: str({ default: 'allow', one_of: ['allow', 'deny', 'always'] }),
  model_name_header: bool({ default: true }),
  max_request_body_size: int({ default: 8192, gt: 0 }),
  llm_format: str({ default: 'openai', one_of: ['openai', 'bedrock', 'gemini'] }),
}, { checks: [...modelChecks(), ...llmFormatChecks(), availableProviderCheck((m) => resolveProvider(m) !== undefined)] });

export type AiProxyConfig = ConfigOf<typeof config>;

class AiProxy {
  private readonly config: AiProxyConfig;
  private readonly meta: KongInstanceMeta;
  /** The Service's timeouts bound the relay's provider call; its id goes in the relay's log line. */
  private readonly service: ServiceLookup;

  constructor(raw: unknown) {
    // A config Kong let through but that is still wrong stops here; Kong answers 500 and logs the message.
    this.config = config.parse(raw);
    this.meta = instanceMeta(raw);
    this.service = new ServiceLookup(this.meta);
    sharedRelay('ai-proxy');
  }

  async access(kong: KongPDK): Promise<void> {
    const startedAt = Date.now();
    const service = await this.service.get(kong);
    const c = this.config;
    await handOff(kong, {
      plugin: 'ai-proxy',
      target: c,
      responseStreaming: c.response_streaming,
      modelNameHeader: c.model_name_header,
      maxRequestBodySize: c.max_request_body_size,
      meta: this.meta,
      serviceId: service.id,
      startedAt,
      timeouts: service.timeouts,
    });
  }
}

export const Plugin = AiProxy;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 770;
