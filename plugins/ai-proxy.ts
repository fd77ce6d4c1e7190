// ai-proxy: one route, one model. Configuration-compatible with Kong's own ai-proxy (3.9).
// At this stage it serves OpenAI-format upstreams: the request is checked as Kong checks it, the model
// and auth are applied, and Kong proxies to the provider (streams pass through unbuffered: no
// `response` phase). Provider translation and the streaming relay come with the following issues.
import { defineConfig, instanceMeta, int, str, bool, type ConfigOf } from '../shared/config-schema';
import { authRecord, loggingRecord, modelChecks, modelRecord, ROUTE_TYPES, supportedProviderCheck } from '../shared/llm/config-fields';
import { forwardToOpenAICompatible } from '../shared/llm/forward';
import type { KongPDK } from '../shared/kong/pdk';
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
}, { checks: [...modelChecks(), supportedProviderCheck()] });

export type AiProxyConfig = ConfigOf<typeof config>;

class AiProxy {
  private readonly config: AiProxyConfig;
  private readonly pluginId: string | null;

  constructor(raw: unknown) {
    // A config Kong let through but that is still wrong stops here; Kong answers 500 and logs the message.
    this.config = config.parse(raw);
    this.pluginId = instanceMeta(raw).pluginId;
  }

  async access(kong: KongPDK): Promise<void> {
    await forwardToOpenAICompatible(kong, this.config, this.pluginId);
  }
}

export const Plugin = AiProxy;
export const Schema = config.kongFields;
export const Version = PACKAGE_VERSION;
export const Priority = 770;
