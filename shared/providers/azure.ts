// Azure OpenAI: OpenAI's format on a deployment URL,
//   https://{azure_instance}.openai.azure.com/openai/deployments/{azure_deployment_id}/{operation}?api-version=…
// with the key in the configured header (`api-key`), or, with auth.azure_use_managed_identity, a Microsoft
// Entra ID token as `Authorization: Bearer <token>` (azure-entra-identity.ts says which identity,
// azure-entra-token.ts gets and keeps its token). As in Kong Enterprise (kong/plugins/ai-proxy/handler.lua),
// the token replaces whatever Authorization the client sent; allow_override still applies to a configured
// header or parameter (effectiveAuth, shared/relay/client-headers.ts).
// upstream_path replaces the operation after the deployment (as Kong appends it); upstream_url replaces
// the whole URL; `api-version` is always set (azure_api_version, Kong's default 2023-05-15).
//
// Azure's differences from OpenAI, kept and made readable to OpenAI clients:
// - content filtering: `prompt_filter_results` and per-choice `content_filter_results` pass through;
//   finish_reason `content_filter` is OpenAI's; a filtered prompt is a 400 with code `content_filter`,
//   whose `innererror` (the filter categories) is kept in the error body;
// - the first stream event has empty choices, id, model and `created: 0`, carrying only the prompt filter
//   results: it yields no chunk, and its results ride on the first real chunk; with asynchronous
//   filtering, annotation-only choices come without `delta` and get an empty one;
// - api-versions before 2024-09-01 refuse `stream_options` ("Unrecognized request argument supplied"),
//   so usage is requested on streams only from that version on (and the v1 API); with an older version a
//   stream reports no usage.
// Kong takes the client's own `api-version` query argument over the configured one; the translation
// does not see the client's query, so the configured version is used.
import type { RouteType } from '../openai/types';
import { applyConfiguredAuth, scrubFromNowOn } from './auth';
import { azureEntraToken } from './azure-entra-token';
import { parseOpenAIStyleError } from './errors';
import { isObject, type Json } from './json';
import { jsonRequest, openaiBody, openaiStreamTranslator, parseOpenAIResponse } from './openai';
import { openaiUsage } from './native-usage';
import { normalisePath, resolveUrl } from './upstream';
import {
  TranslationError, type Provider, type ProviderError, type StreamChunk, type StreamTranslator, type TargetContext,
  type UpstreamEvent, type UpstreamRequest,
} from './types';


const DEFAULT_API_VERSION = '2023-05-15';

const OPERATIONS: Readonly<Record<RouteType, string>> = {
  'llm/v1/chat': '/chat/completions',
  'llm/v1/completions': '/completions',
  'llm/v1/embeddings': '/embeddings',
  preserve: '',
};

function apiVersion(ctx: TargetContext): string {
  return ctx.options.azure_api_version ?? DEFAULT_API_VERSION;
}

/** Dated versions from 2024-09-01 (preview and GA) take stream_options; so do the undated v1 API's. */
export function azureTakesStreamOptions(version: string): boolean {
  const dated = /^(\d{4}-\d{2}-\d{2})/.exec(version);
  return dated ? dated[1]! >= '2024-09-01' : true;
}

export function azureUrl(ctx: TargetContext): string {
  const o = ctx.options;
  const query = { 'api-version': apiVersion(ctx) };
  if (o.upstream_url !== null) return resolveUrl(o, o.upstream_url, OPERATIONS[ctx.routeType], query);
  if (!o.azure_instance || !o.azure_deployment_id) {
    throw new TranslationError('azure requires model.options.azure_instance and azure_deployment_id');
  }
  const base = `https://${o.azure_instance}.openai.azure.com/openai/deployments/${encodeURIComponent(o.azure_deployment_id)}`;
  const operation = o.upstream_path !== null ? normalisePath(o.upstream_path) : OPERATIONS[ctx.routeType];
  return resolveUrl({ upstream_url: null, upstream_path: null }, base, operation, query);
}

function azureStreamTranslator(ctx: TargetContext): StreamTranslator {
  let promptFilter: { key: string; value: unknown } | undefined;
  let emitted = false;
  const inner = openaiStreamTranslator(ctx, { inspect: (v) => {
    if (emitted) return;
    // `prompt_annotations` is the name older api-versions used.
    for (const key of ['prompt_filter_results', 'prompt_annotations']) {
      if (v[key] !== undefined) promptFilter = { key, value: v[key] };
    }
  } });
  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      const chunks = inner.push(ev);
      for (const chunk of chunks) {
        const c = chunk as unknown as Json;
        if (!emitted && promptFilter && c[promptFilter.key] === undefined) c[promptFilter.key] = promptFilter.value;
        emitted = true;
        for (const choice of c.choices as Json[]) {
          if (!isObject(choice.delta)) choice.delta = {};
        }
      }
      return chunks;
    },
    end: () => inner.end(),
    usage: () => inner.usage(),
  };
}

/** The configured header or parameter, then the Entra ID token when the target uses one. */
async function withAuth(req: UpstreamRequest, ctx: TargetContext): Promise<UpstreamRequest> {
  const out = applyConfiguredAuth(req, ctx);
  const a = ctx.auth;
  if (a?.azure_use_managed_identity) {
    const token = await azureEntraToken(a, ctx.env);
    scrubFromNowOn(token);
    out.headers.authorization = `Bearer ${token}`;
  }
  return out;
}

/** Azure's errors are OpenAI's shape (string codes such as "429", "DeploymentNotFound", "content_filter"). */
export function parseAzureError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const e = parseOpenAIStyleError(status, body, ctx);
  const inner = isObject(body) && isObject(body.error) ? body.error.innererror : undefined;
  // The content filter's verdict per category (hate, violence, jailbreak, ...): no secret, useful to clients.
  if (isObject(inner)) (e.body.error as unknown as Json).innererror = inner;
  return e;
}

export const azureProvider: Provider = {
  name: 'azure',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(body, ctx) {
    const url = azureUrl(ctx);
    if (ctx.routeType === 'preserve') return withAuth(jsonRequest(url, body), ctx);
    const out = openaiBody(body, ctx);
    if (!azureTakesStreamOptions(apiVersion(ctx))) delete out.stream_options;
    return withAuth(jsonRequest(url, out), ctx);
  },
  parseResponse: parseOpenAIResponse,
  streamTranslator: azureStreamTranslator,
  parseError: parseAzureError,
  nativeUsage: openaiUsage,
  // Kong takes the client's own api-version query argument over the configured one.
  optionsFromQuery: (options, query) => {
    const v = query.get('api-version');
    return v ? { ...options, azure_api_version: v } : options;
  },
  logMeta: (ctx) => ({
    azure_instance_id: ctx.options.azure_instance,
    azure_deployment_id: ctx.options.azure_deployment_id,
    azure_api_version: ctx.options.azure_api_version,
  }),
};
