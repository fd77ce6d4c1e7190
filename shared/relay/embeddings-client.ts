// Embeds texts with ai-proxy-advanced's `embeddings` model for semantic routing (target descriptions
// once per config, the prompt per request), through the same provider translations and upstream
// client as every other call: any provider that serves llm/v1/embeddings can embed.
import type { EmbeddingsList } from '../openai/types';
import { redactSecrets } from '../providers/core/auth';
import { parseJson } from '../providers/core/json';
import { getProvider } from '../providers/core/registry';
import { NO_AUTH, NO_OPTIONS, type ModelOptions, type ProviderName, type TargetContext } from '../providers/core/types';
import type { ValueOf } from '../config-schema';
import type { embeddingsRecord } from '../llm/config-fields';
import type { ProviderTimeouts } from './context';
import { UpstreamFailure, type UpstreamClient } from './upstream-client';

export type EmbeddingsConfig = ValueOf<ReturnType<typeof embeddingsRecord>>;

/** An embedding call that failed: `message` for the client, `detail` for the operator's log. */
export class EmbeddingsError extends Error {
  constructor(message: string, readonly detail: string) {
    super(message);
  }
}

const MAX_EMBEDDINGS_RESPONSE = 16 * 1024 * 1024;

/** The embeddings record's options in the shape the providers read (`model.options`). */
function providerOptions(c: EmbeddingsConfig): ModelOptions {
  const o = c.model.options;
  return {
    ...NO_OPTIONS,
    upstream_url: o?.upstream_url ?? null,
    azure_instance: o?.azure?.instance ?? null,
    azure_deployment_id: o?.azure?.deployment_id ?? null,
    azure_api_version: o?.azure?.api_version ?? null,
    bedrock: o?.bedrock ? { aws_region: o.bedrock.aws_region } : null,
    gemini: o?.gemini ?? null,
    huggingface: o?.huggingface ?? null,
  };
}

export class EmbeddingsClient {
  private readonly provider: ProviderName;
  private readonly options: ModelOptions;

  /**
   * `dimensions`: the vector size the store expects (vectordb.dimensions); asked of providers that take
   * a size (as Kong sends it to OpenAI), and checked on every answer.
   */
  constructor(private readonly upstream: UpstreamClient, private readonly config: EmbeddingsConfig,
    private readonly dimensions: number | null, private readonly timeouts: ProviderTimeouts,
    private readonly env: Readonly<Record<string, string | undefined>>) {
    this.provider = config.model.provider;
    this.options = providerOptions(config);
  }

  async embed(texts: readonly string[], requestId: string): Promise<number[][]> {
    const provider = getProvider(this.provider);
    const ctx: TargetContext = {
      provider: this.provider, routeType: 'llm/v1/embeddings', model: this.config.model.name, stream: false, includeUsage: false,
      options: this.options, auth: this.config.auth ?? NO_AUTH, env: this.env, now: () => Math.floor(Date.now() / 1000), requestId,
    };
    const sized = this.dimensions !== null && (this.provider === 'openai' || this.provider === 'azure');
    const who = `the embeddings provider (${this.provider})`;
    let text: string;
    let status: number;
    try {
      const req = await provider.buildRequest({ routeType: 'llm/v1/embeddings', body: { model: ctx.model, input: [...texts], ...(sized ? { dimensions: this.dimensions! } : {}) } }, ctx);
      const up = await this.upstream.send(req, this.provider, this.timeouts, new AbortController(), true);
      status = up.status;
      text = await up.text(MAX_EMBEDDINGS_RESPONSE);
      if (status < 200 || status > 299) {
        const err = provider.parseError(status, parseJson(text) ?? text, ctx);
        throw new EmbeddingsError(`${who} answered ${status}`, err.body.error.message);
      }
      const out = provider.parseResponse(parseJson(text), ctx) as EmbeddingsList;
      const vectors = out.data.map((d) => d.embedding as number[]);
      if (vectors.length !== texts.length) throw new EmbeddingsError(`${who} answered ${vectors.length} vectors for ${texts.length} texts`, '');
      for (const v of vectors) {
        if (this.dimensions !== null && v.length !== this.dimensions) {
          throw new EmbeddingsError(`${who} answered vectors of ${v.length} dimensions; vectordb.dimensions is ${this.dimensions}`, '');
        }
      }
      return vectors;
    } catch (e) {
      if (e instanceof EmbeddingsError) throw new EmbeddingsError(e.message, redactSecrets(e.detail, ctx));
      const detail = e instanceof UpstreamFailure ? e.detail : e instanceof Error ? e.message : String(e);
      throw new EmbeddingsError(`${who} failed`, redactSecrets(detail, ctx));
    }
  }
}
