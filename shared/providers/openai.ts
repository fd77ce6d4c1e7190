// OpenAI: the clients' own format, so requests and responses pass through with the configured model and
// stream settings applied. Its building blocks serve every OpenAI-format upstream (Azure, Mistral and
// Llama in openai format, Hugging Face's chat API).
import type {
  ChatCompletion, ChatCompletionChunk, OpenAIRequestBody, OpenAIResponseBody, RouteType, Usage,
} from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { parseOpenAIStyleError } from './errors';
import { resolveUrl } from './upstream';
import {
  ProviderStreamError, TranslationError, VERBATIM, type Provider, type StreamChunk, type StreamTranslator, type TargetContext,
  type UpstreamEvent, type UpstreamRequest, type VerbatimChunk,
} from './types';
import { eventJson, isObject, type Json } from './json';
import { openaiUsage } from './native-usage';

export const OPENAI_PATHS: Readonly<Record<Exclude<RouteType, 'preserve'>, string>> = {
  'llm/v1/chat': '/v1/chat/completions',
  'llm/v1/completions': '/v1/completions',
  'llm/v1/embeddings': '/v1/embeddings',
};

function isGiven(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/**
 * The config's max_tokens over the client's (kong/llm/drivers/shared.lua merge_config_defaults), in the
 * field the client used: OpenAI's reasoning models refuse `max_tokens`, so a client's
 * `max_completion_tokens` takes the config's value rather than getting a `max_tokens` beside it.
 * The fields to set on the body.
 */
export function configuredMaxTokens(body: Readonly<Record<string, unknown>>, maxTokens: number): Record<string, number> {
  const completion = isGiven(body.max_completion_tokens);
  return {
    ...(completion ? { max_completion_tokens: maxTokens } : {}),
    ...(!completion || isGiven(body.max_tokens) ? { max_tokens: maxTokens } : {}),
  };
}

/**
 * The body an OpenAI-format upstream gets: the configured model and max_tokens, `stream` explicit, and
 * on a stream usage always requested (the pipeline drops the usage chunk again when the client did not
 * ask). `top_k` is not OpenAI's and is removed.
 */
export function openaiBody(body: OpenAIRequestBody, ctx: TargetContext): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model: ctx.model };
  delete out.top_k;
  if (ctx.routeType === 'llm/v1/embeddings') {
    delete out.stream;
    delete out.stream_options;
    return out;
  }
  if (ctx.options.max_tokens !== null) Object.assign(out, configuredMaxTokens(out, ctx.options.max_tokens));
  out.stream = ctx.stream;
  if (ctx.stream) out.stream_options = { ...(body as { stream_options?: object }).stream_options, include_usage: true };
  else delete out.stream_options;
  return out;
}

export function jsonRequest(url: string, body: unknown, headers: Record<string, string> = {}): UpstreamRequest {
  return { method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** An OpenAI-shaped response, checked for the part the route type needs; the model kept as reported. */
export function parseOpenAIResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  if (!isObject(body)) throw new TranslationError(`failed to decode ${ctx.routeType} response`);
  if (ctx.routeType === 'llm/v1/embeddings') {
    if (!Array.isArray(body.data)) throw new TranslationError("'data' not in llm/v1/embeddings response");
  } else if (!Array.isArray(body.choices)) {
    throw new TranslationError(`'choices' not in ${ctx.routeType} response`);
  }
  return { ...body, model: typeof body.model === 'string' ? body.model : ctx.model } as unknown as OpenAIResponseBody;
}

function usageOf(v: unknown): Usage | undefined {
  if (!isObject(v) || typeof v.prompt_tokens !== 'number') return undefined;
  const completion = typeof v.completion_tokens === 'number' ? v.completion_tokens : 0;
  return { ...(v as object), prompt_tokens: v.prompt_tokens, completion_tokens: completion,
    total_tokens: typeof v.total_tokens === 'number' ? v.total_tokens : v.prompt_tokens + completion } as Usage;
}

export interface OpenAIStreamOptions {
  /** Sees every JSON event first (OpenAI-format providers read their own extra fields there, or throw their own errors). */
  inspect?: (event: Json) => void;
  /**
   * The caller does not change the chunks: an event that needs no change is passed on as the provider's
   * own text (VERBATIM), not serialised again.
   */
  verbatim?: boolean;
}

/**
 * An OpenAI-format SSE stream: chunks pass through, the usage-only chunk is captured for the pipeline,
 * `usage` fields dropped when the client did not ask for usage, `[DONE]` marks the normal end, an
 * `{"error": ...}` payload becomes a ProviderStreamError. No event is parsed twice.
 */
export function openaiStreamTranslator(ctx: TargetContext, o: OpenAIStreamOptions = {}): StreamTranslator {
  let usage: Usage | undefined;
  let done = false;
  let sawChunk = false;
  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.data === '[DONE]') { done = true; return []; }
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) return [];
      o.inspect?.(v);
      if (v.error !== undefined || ev.event === 'error') {
        throw new ProviderStreamError(parseOpenAIStyleError(500, v, ctx));
      }
      const u = usageOf(v.usage);
      if (u) usage = u;
      if (!Array.isArray(v.choices) || v.choices.length === 0) return [];
      sawChunk = true;
      const unchanged = ctx.includeUsage || v.usage === undefined;
      if (o.verbatim && unchanged && ev.data.indexOf('\n') === -1 && ev.data.indexOf('\r') === -1) {
        const chunk = v as unknown as VerbatimChunk;
        chunk[VERBATIM] = ev.data;
        return [chunk];
      }
      const chunk = { ...v } as unknown as ChatCompletionChunk;
      if (!ctx.includeUsage) delete (chunk as { usage?: unknown }).usage;
      return [chunk];
    },
    end() {
      if (!done && !sawChunk) throw new TranslationError(`${ctx.provider} stream ended before any data`);
      if (!done) throw new TranslationError(`${ctx.provider} stream ended before [DONE]`);
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}

export const openaiProvider: Provider = {
  name: 'openai',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(body, ctx) {
    const o = ctx.options;
    if (ctx.routeType === 'preserve') {
      return applyConfiguredAuth(jsonRequest(resolveUrl(o, 'https://api.openai.com', ''), body), ctx);
    }
    const url = resolveUrl(o, 'https://api.openai.com', OPENAI_PATHS[ctx.routeType]);
    return applyConfiguredAuth(jsonRequest(url, openaiBody(body, ctx)), ctx);
  },
  parseResponse: parseOpenAIResponse,
  streamTranslator: (ctx) => openaiStreamTranslator(ctx, { verbatim: true }),
  parseError: parseOpenAIStyleError,
  nativeUsage: openaiUsage,
};

export type { ChatCompletion };
