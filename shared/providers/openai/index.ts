// OpenAI: the clients' own format, so requests and responses pass through with the configured model and
// stream settings applied (openai-format/).
import { applyConfiguredAuth } from '../core/auth';
import { parseOpenAIStyleError } from '../core/errors';
import { jsonRequest } from '../core/json-request';
import { openaiUsage } from '../core/native-usage';
import { resolveUrl } from '../core/upstream';
import type { Provider } from '../core/types';
import { OPENAI_PATHS, openaiBody } from '../openai-format/request';
import { parseOpenAIResponse } from '../openai-format/response';
import { openaiStreamTranslator } from '../openai-format/stream';

const BASE_URL = 'https://api.openai.com';

export const openaiProvider: Provider = {
  name: 'openai',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(req, ctx) {
    const o = ctx.options;
    if (req.routeType === 'preserve') {
      return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, ''), req.body), ctx);
    }
    const url = resolveUrl(o, BASE_URL, OPENAI_PATHS[req.routeType]);
    return applyConfiguredAuth(jsonRequest(url, openaiBody(req, ctx)), ctx);
  },
  async buildResponsesRequest(body, ctx) {
    return applyConfiguredAuth(jsonRequest(resolveUrl(ctx.options, BASE_URL, '/v1/responses'), body), ctx);
  },
  parseResponse: parseOpenAIResponse,
  streamTranslator: (ctx) => openaiStreamTranslator(ctx, { verbatim: true }),
  parseError: parseOpenAIStyleError,
  nativeUsage: openaiUsage,
};
