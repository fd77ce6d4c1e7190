// Cohere through its v2 API: chat (/v2/chat), legacy completions (one user message on /v2/chat),
// embeddings (/v2/embed), `preserve` (body untouched). Bearer credential from the config's auth header.
// A config whose upstream_url or upstream_path names /v1/chat (as Kong's, whose driver speaks v1) gets
// v1 for chat and completions: cohere-v1-request.ts, cohere-v1-stream.ts (NDJSON stream).
import type { ChatRequest, CompletionRequest, EmbeddingsRequest } from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { cohereChatBody, cohereEmbedBody } from './cohere-request';
import { parseCohereError, parseCohereResponse } from './cohere-response';
import { cohereStreamTranslator } from './cohere-stream';
import { cohereV1ChatBody, speaksCohereV1 } from './cohere-v1-request';
import { cohereV1StreamTranslator } from './cohere-v1-stream';
import { jsonRequest } from './openai';
import { resolveUrl } from './upstream';
import { cohereUsage } from './native-usage';
import type { Provider } from './types';

const BASE_URL = 'https://api.cohere.com';

export const cohereProvider: Provider = {
  name: 'cohere',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: (ctx) => (speaksCohereV1(ctx) ? 'ndjson' : 'sse'),
  async buildRequest(body, ctx) {
    const o = ctx.options;
    if (ctx.routeType === 'preserve') return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, ''), body), ctx);
    if (ctx.routeType === 'llm/v1/embeddings') {
      return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, '/v2/embed'), cohereEmbedBody(body as EmbeddingsRequest, ctx)), ctx);
    }
    const url = resolveUrl(o, BASE_URL, '/v2/chat');
    const chat = body as ChatRequest | CompletionRequest;
    return applyConfiguredAuth(jsonRequest(url, speaksCohereV1(ctx) ? cohereV1ChatBody(chat, ctx) : cohereChatBody(chat, ctx)), ctx);
  },
  parseResponse: parseCohereResponse,
  streamTranslator: (ctx) => (speaksCohereV1(ctx) ? cohereV1StreamTranslator(ctx) : cohereStreamTranslator(ctx)),
  parseError: parseCohereError,
  nativeUsage: cohereUsage,
};
