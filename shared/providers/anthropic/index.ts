// Anthropic (Claude) through the Messages API: chat and legacy completions (a prompt becomes one user
// turn; /v1/complete is retired), `preserve` (body untouched). No embeddings: Anthropic has none.
import { applyConfiguredAuth } from '../core/auth';
import { jsonRequest } from '../core/json-request';
import { anthropicUsage } from '../core/native-usage';
import { TranslationError, type Provider } from '../core/types';
import { resolveUrl } from '../core/upstream';
import { anthropicBody } from './request';
import { parseAnthropicError, parseAnthropicResponse } from './response';
import { anthropicStreamTranslator } from './stream';

const BASE_URL = 'https://api.anthropic.com';
/** Used when the config sets none (Kong's schema requires one): the current Messages API version. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

export const anthropicProvider: Provider = {
  name: 'anthropic',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'preserve'],
  framing: () => 'sse',
  async buildRequest(req, ctx) {
    const o = ctx.options;
    // The credential (x-api-key) is the config's header; Anthropic's version header is always set.
    const headers = { 'anthropic-version': o.anthropic_version ?? DEFAULT_ANTHROPIC_VERSION };
    if (req.routeType === 'preserve') {
      return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE_URL, ''), req.body, headers), ctx);
    }
    if (req.routeType === 'llm/v1/embeddings') throw new TranslationError('anthropic has no embeddings API');
    const url = resolveUrl(o, BASE_URL, '/v1/messages');
    return applyConfiguredAuth(jsonRequest(url, anthropicBody(req, ctx), headers), ctx);
  },
  parseResponse: parseAnthropicResponse,
  streamTranslator: anthropicStreamTranslator,
  parseError: parseAnthropicError,
  nativeUsage: anthropicUsage,
  // 529: Anthropic is overloaded, a 503 in nginx's terms (failover_criteria http_503).
  failoverStatus: (status) => (status === 529 ? 503 : status),
};
