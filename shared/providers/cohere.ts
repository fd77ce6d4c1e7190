// Cohere through its v2 API: chat (/v2/chat), legacy completions (one user message on /v2/chat),
// embeddings (/v2/embed), `preserve` (body untouched). Bearer credential from the config's auth header.
import type { ChatRequest, CompletionRequest, EmbeddingsRequest } from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { cohereChatBody, cohereEmbedBody } from './cohere-request';
import { parseCohereError, parseCohereResponse } from './cohere-response';
import { cohereStreamTranslator } from './cohere-stream';
import { jsonRequest } from './openai';
import { resolveUrl } from './upstream';
import { cohereUsage } from './native-usage';
import type { Provider } from './types';

const BASE_URL = 'https://api.cohere.com';

export const cohereProvider: Provider = {
  name: 'cohere',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(body, ctx) {
    const o = ctx.options;
    if (ctx.routeType === 'preserve') return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, ''), body), ctx);
    if (ctx.routeType === 'llm/v1/embeddings') {
      return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, '/v2/embed'), cohereEmbedBody(body as EmbeddingsRequest, ctx)), ctx);
    }
    const url = resolveUrl(o, BASE_URL, '/v2/chat');
    return applyConfiguredAuth(jsonRequest(url, cohereChatBody(body as ChatRequest | CompletionRequest, ctx)), ctx);
  },
  parseResponse: parseCohereResponse,
  streamTranslator: cohereStreamTranslator,
  parseError: parseCohereError,
  nativeUsage: cohereUsage,
};
