// Google Gemini: the Gemini API (AI Studio, generativelanguage.googleapis.com, API key) and Vertex AI
// (when model.options.gemini names api_endpoint, project_id and location_id; OAuth token of a service
// account). Chat, legacy completions and embeddings are translated; `preserve` sends the client's body
// (Gemini's own format) to the model's generateContent operation untouched.
import type { OpenAIResponseBody } from '../../openai/types';
import { applyConfiguredAuth, withBearerToken } from '../core/auth';
import { geminiUsage } from '../core/native-usage';
import { TranslationError, type Provider, type RouteRequest, type TargetContext, type UpstreamRequest } from '../core/types';
import { encodePathSegment, resolveUrl } from '../core/upstream';
import { gcpAccessToken, GcpCredentialError } from './gcp-token';
import { batchEmbedBody, chatBody, completionBody, vertexPredictBody } from './request';
import { parseEmbeddings, parseGeminiError, parseGenerateContent } from './response';
import { geminiStreamTranslator } from './stream';

export const GEMINI_API_BASE = 'https://generativelanguage.googleapis.com';

interface VertexTarget {
  endpoint: string;
  project: string;
  location: string;
}

/** Vertex AI mode: all three options set (the config schema requires all or none). */
function vertexTarget(ctx: TargetContext): VertexTarget | undefined {
  const g = ctx.options.gemini;
  if (!g || !g.api_endpoint || !g.project_id || !g.location_id) return undefined;
  return { endpoint: g.api_endpoint, project: g.project_id, location: g.location_id };
}

/** A path segment, but `@` (Vertex model versions) kept readable. */
function seg(s: string): string {
  return encodePathSegment(s).replace(/%40/g, '@');
}

/** Vertex AI partner models speak their own formats (rawPredict); this module only speaks Gemini's. */
const PARTNER_MODEL = /^(claude-|mistral-|codestral-|jamba-)/;

/** A Vertex AI partner model (Anthropic's, Mistral's, AI21's): served in its maker's format, not Gemini's. */
export function isVertexPartnerModel(model: string): boolean {
  return PARTNER_MODEL.test(model.replace(/^(publishers\/[^/]+\/)?models\//, ''));
}

function operationOf(ctx: TargetContext, vertex: boolean): string {
  if (ctx.routeType === 'llm/v1/embeddings') return vertex ? 'predict' : 'batchEmbedContents';
  return ctx.stream ? 'streamGenerateContent' : 'generateContent';
}

/**
 * The upstream URL. Under upstream_url / upstream_path the operator's path is used, but a stream still
 * goes to the stream operation: a trailing `:generateContent` / `:streamGenerateContent` is replaced by
 * the one this call needs (Kong keeps the configured one, so a stream hits the non-stream operation).
 */
export function geminiUrl(ctx: TargetContext): string {
  const vertex = vertexTarget(ctx);
  const op = operationOf(ctx, vertex !== undefined);
  const query: Record<string, string> = ctx.stream && ctx.routeType !== 'llm/v1/embeddings' ? { alt: 'sse' } : {};
  const model = ctx.model.replace(/^(publishers\/google\/)?models\//, '');
  let base: string;
  let path: string;
  if (vertex !== undefined) {
    // The configuration check refuses a configured partner model (shared/llm/config-fields.ts); a
    // templated one lands here.
    if (isVertexPartnerModel(model)) {
      throw new TranslationError(`Vertex AI partner model '${model}' is not served in Gemini's format; only Google's Gemini models are supported by the gemini provider`);
    }
    base = /^https?:\/\//i.test(vertex.endpoint) ? vertex.endpoint : `https://${vertex.endpoint}`;
    path = `/v1/projects/${seg(vertex.project)}/locations/${seg(vertex.location)}/publishers/google/models/${seg(model)}:${op}`;
  } else {
    base = GEMINI_API_BASE;
    path = `/v1beta/models/${seg(model)}:${op}`;
  }
  const o = ctx.options;
  const url = new URL(resolveUrl(o, base, path, query));
  if ((o.upstream_url !== null || o.upstream_path !== null) && ctx.routeType !== 'llm/v1/embeddings') {
    url.pathname = url.pathname.replace(/:(stream)?generateContent$/i, `:${op}`);
  }
  return url.toString();
}

function bodyFor(req: RouteRequest, ctx: TargetContext): unknown {
  switch (req.routeType) {
    case 'llm/v1/chat': return chatBody(req.body, ctx.model, ctx.options.max_tokens);
    case 'llm/v1/completions': return completionBody(req.body, ctx.options.max_tokens);
    case 'llm/v1/embeddings':
      return vertexTarget(ctx) !== undefined ? vertexPredictBody(req.body) : batchEmbedBody(req.body, ctx.model.replace(/^models\//, ''));
    case 'preserve': return req.body;
  }
}

async function withAuth(req: UpstreamRequest, ctx: TargetContext): Promise<UpstreamRequest> {
  const a = ctx.auth;
  // A credential in the JSON body means nothing to Gemini (an unknown field is a 400), and Kong never
  // puts it in a translated body either: only the header and query forms are applied. The config check
  // refuses param_location 'body' (shared/llm/config-fields.ts); this stays as a backstop.
  const out = a !== null && a.param_location === 'body' && ctx.routeType !== 'preserve'
    ? applyConfiguredAuth(req, { ...ctx, auth: { ...a, param_name: null, param_value: null } })
    : applyConfiguredAuth(req, ctx);
  if (a !== null && a.gcp_use_service_account) {
    const json = a.gcp_service_account_json ?? ctx.env.GCP_SERVICE_ACCOUNT;
    if (json === undefined || json.trim() === '') {
      throw new GcpCredentialError('auth.gcp_use_service_account is set, but neither auth.gcp_service_account_json nor the GCP_SERVICE_ACCOUNT variable holds a service account key');
    }
    return withBearerToken(out, await gcpAccessToken(json));
  }
  return out;
}

export const geminiProvider: Provider = {
  name: 'gemini',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  // Always `alt=sse` (server-sent events with CRLF terminators, ended by closing the connection).
  framing: () => 'sse',
  async buildRequest(req, ctx) {
    const out: UpstreamRequest = {
      method: 'POST',
      url: geminiUrl(ctx),
      // Kong asks Gemini for an uncompressed body too (gzip broke its stream parsing).
      headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' },
      body: JSON.stringify(bodyFor(req, ctx)),
    };
    return withAuth(out, ctx);
  },
  parseResponse(body, ctx): OpenAIResponseBody {
    switch (ctx.routeType) {
      // Float vectors; a client's `encoding_format: base64` is applied by the proxy.
      case 'llm/v1/embeddings': return parseEmbeddings(body, ctx);
      case 'preserve': return body as OpenAIResponseBody;
      default: return parseGenerateContent(body, ctx);
    }
  },
  streamTranslator: geminiStreamTranslator,
  parseError: parseGeminiError,
  preservePath: 'model',
  nativeUsage: geminiUsage,
};
