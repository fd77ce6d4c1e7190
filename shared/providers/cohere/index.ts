// Cohere through its v2 API: chat (/v2/chat), legacy completions (one user message on /v2/chat),
// embeddings (/v2/embed), `preserve` (body untouched). Bearer credential from the config's auth header.
// A config whose upstream_url or upstream_path names /v1/chat (as Kong's, whose driver speaks v1) gets
// v1 for chat and completions: v1-request.ts, v1-stream.ts (NDJSON stream).
import { applyConfiguredAuth } from '../core/auth';
import { jsonRequest } from '../core/json-request';
import { cohereUsage } from '../core/native-usage';
import type { Provider } from '../core/types';
import { resolveUrl } from '../core/upstream';
import { cohereChatBody, cohereEmbedBody } from './request';
import { parseCohereError, parseCohereResponse } from './response';
import { cohereStreamTranslator } from './stream';
import { cohereV1ChatBody, speaksCohereV1 } from './v1-request';
import { cohereV1StreamTranslator } from './v1-stream';

const BASE_URL = 'https://api.cohere.com';

export const cohereProvider: Provider = {
  name: 'cohere',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: (ctx) => (speaksCohereV1(ctx) ? 'ndjson' : 'sse'),
  async buildRequest(req, ctx) {
    const o = ctx.options;
    if (req.routeType === 'preserve') return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, ''), req.body), ctx);
    if (req.routeType === 'llm/v1/embeddings') {
      return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, '/v2/embed'), cohereEmbedBody(req.body, ctx)), ctx);
    }
    const url = resolveUrl(o, BASE_URL, '/v2/chat');
    return applyConfiguredAuth(jsonRequest(url, speaksCohereV1(ctx) ? cohereV1ChatBody(req, ctx) : cohereChatBody(req, ctx)), ctx);
  },
  parseResponse: parseCohereResponse,
  streamTranslator: (ctx) => (speaksCohereV1(ctx) ? cohereV1StreamTranslator(ctx) : cohereStreamTranslator(ctx)),
  parseError: parseCohereError,
  nativeUsage: cohereUsage,
};
