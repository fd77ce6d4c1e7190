// Azure OpenAI: OpenAI's format on a deployment URL,
//   https://{azure_instance}.openai.azure.com/openai/deployments/{azure_deployment_id}/{operation}?api-version=…
// with the key in the configured header (`api-key`), or, with auth.azure_use_managed_identity, a Microsoft
// Entra ID token as `Authorization: Bearer <token>` (entra-identity.ts says which identity,
// entra-token.ts gets and keeps its token). As in Kong Enterprise (kong/plugins/ai-proxy/handler.lua),
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
// Kong takes the client's own `api-version` query argument over the configured one; so do we
// (optionsFromQuery). The URL is built in request.ts, the stream read in stream.ts, errors in response.ts.
import { applyConfiguredAuth, withBearerToken } from '../core/auth';
import { jsonRequest } from '../core/json-request';
import { openaiUsage } from '../core/native-usage';
import type { Provider, TargetContext, UpstreamRequest } from '../core/types';
import { openaiBody } from '../openai-format/request';
import { parseOpenAIResponse } from '../openai-format/response';
import { azureEntraToken } from './entra-token';
import { apiVersion, azureResponsesUrl, azureTakesStreamOptions, azureUrl } from './request';
import { parseAzureError } from './response';
import { azureStreamTranslator } from './stream';

/** The configured header or parameter, then the Entra ID token when the target uses one. */
async function withAuth(req: UpstreamRequest, ctx: TargetContext): Promise<UpstreamRequest> {
  const out = applyConfiguredAuth(req, ctx);
  const a = ctx.auth;
  if (a?.azure_use_managed_identity) {
    return withBearerToken(out, await azureEntraToken(a, ctx.env));
  }
  return out;
}

export const azureProvider: Provider = {
  name: 'azure',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(req, ctx) {
    const url = azureUrl(ctx);
    if (req.routeType === 'preserve') return withAuth(jsonRequest(url, req.body), ctx);
    const out = openaiBody(req, ctx);
    if (!azureTakesStreamOptions(apiVersion(ctx))) delete out.stream_options;
    return withAuth(jsonRequest(url, out), ctx);
  },
  // The Responses API is on Azure's v1 surface, the deployment named as the body's model.
  async buildResponsesRequest(body, ctx) {
    return withAuth(jsonRequest(azureResponsesUrl(ctx), { ...body, model: ctx.options.azure_deployment_id ?? body.model }), ctx);
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
