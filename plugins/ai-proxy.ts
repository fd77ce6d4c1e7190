// ai-proxy: one route, one model, any provider, an OpenAI-compatible API. Configuration-compatible with
// Kong's own ai-proxy (3.9). Kong gives external plugins no body filter, so the access phase hands the
// request over to a loopback relay in this process (shared/relay/), which checks it, calls the provider
// and writes the translated answer, streams chunk by chunk, back through Kong.
import { defineConfig, instanceMeta, int, str, bool, type ConfigOf, type KongInstanceMeta } from '../shared/config-schema';
import { llmFormatChecks, modelChecks, targetChecks, targetFields } from '../shared/llm/config-fields';
import type { KongPDK } from '../shared/kong/pdk';
import { Handoff } from '../shared/relay/handoff';
import { targetServesRouteType } from '../shared/relay/prepare';
import { sharedRelay } from '../shared/relay/server';
import { ServiceLookup } from '../shared/relay/service-lookup';
import { isNativeFormat, LLM_FORMATS } from '../shared/native/formats';
import { PACKAGE_VERSION } from '../shared/version';

const config = defineConfig({
  ...targetFields(),
  response_streaming: str({ default: 'allow', one_of: ['allow', 'deny', 'always'] }),
  model_name_header: bool({ default: true }),
  max_request_body_size: int({ default: 8192, gt: 0 }),
  // Kong's openai, gemini and bedrock; anthropic (its Messages API) is ours.
  llm_format: str({ default: 'openai', one_of: LLM_FORMATS, description: "The API clients speak: OpenAI's, or the provider's own (gemini, bedrock, anthropic) passed through unchanged." }),
}, {
  checks: [...modelChecks(), ...llmFormatChecks(), ...targetChecks(targetServesRouteType)],
});

export type AiProxyConfig = ConfigOf<typeof config>;

class AiProxy {
  /** The Service's timeouts bound the relay's provider call; its id goes in the relay's log line. */
  private readonly service: ServiceLookup;
  private readonly handoff: Handoff;

  constructor(raw: unknown) {
    // A config Kong let through but that is still wrong stops here; Kong answers 500 and logs the message.
    const c = config.parse(raw);
    const meta: KongInstanceMeta = instanceMeta(raw);
    this.service = new ServiceLookup(meta);
    sharedRelay('ai-proxy');
    this.handoff = new Handoff({
      plugin: 'ai-proxy',
      targets: [c],
      responseStreaming: c.response_streaming,
      modelNameHeader: c.model_name_header,
      maxRequestBodySize: c.max_request_body_size,
      meta,
      ...(isNativeFormat(c.llm_format) ? { llmFormat: c.llm_format } : {}),
    });
  }

  async access(kong: KongPDK): Promise<void> {
    const startedAt = Date.now();
    const service = await this.service.get(kong);
    await this.handoff.handOff(kong, { service, startedAt, timeouts: service.timeouts });
  }
}

export const Plugin = AiProxy;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 770;
