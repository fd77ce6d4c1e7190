// Mistral: `openai` format to La Plateforme (https://api.mistral.ai, /v1/chat/completions and
// /v1/embeddings; upstream_url overrides), Bearer auth from the config; `ollama` format to a self-hosted
// Ollama at upstream_url (ollama/).
//
// Mistral's API looks like OpenAI's but validates strictly: an unknown field is a 422 `extra_forbidden`
// (seen for max_completion_tokens, store, stream_options). The body is therefore rebuilt from the fields
// Mistral documents (mistralai/client-ts ChatCompletionRequest / EmbeddingRequest, docs.mistral.ai):
// - seed → random_seed, max_completion_tokens → max_tokens, dimensions → output_dimension;
// - tool_choice `required` → `any` (Mistral's name for it; newer versions also accept `required`);
// - role `developer` → `system`; per-message fields Mistral does not take (name on non-tool messages,
//   refusal, audio, ...) dropped;
// - tool call ids must be exactly 9 characters [a-zA-Z0-9] ("Tool call id was call_… but must be a-z,
//   A-Z, 0-9, with a length of 9"): ids from another provider (a conversation moved by the balancer)
//   are mapped to such ids, deterministically, in assistant tool_calls and tool messages alike;
// - stream_options dropped: Mistral always sends usage, in the last content chunk;
// - other OpenAI fields (logprobs, user, store, logit_bias, service_tier, top_k, ...) are not sent.
// `n` is sent as is (Mistral supports it). Legacy completions do not exist on Mistral's API (its FIM
// endpoint is a different operation), so that route type works only in `ollama` format; Kong sends it
// to the path "/".
//
// Responses: finish_reason `model_length` → `length`; `error` is a failure (a stream error / a
// UpstreamFormatError); message content given as a list of chunks (Magistral: thinking + text) is reduced
// to its text; stream tool-call deltas get the `index` and `type` Mistral leaves out.
import { applyConfiguredAuth } from '../core/auth';
import { parseOpenAIStyleError } from '../core/errors';
import { jsonRequest } from '../core/json-request';
import { ollamaUsage, openaiUsage } from '../core/native-usage';
import { TranslationError, type Provider, type TargetContext } from '../core/types';
import { resolveUrl, upstreamUrlWithDefaultPath } from '../core/upstream';
import { OLLAMA_PATHS, ollamaRequestBody } from '../ollama/request';
import { parseOllamaResponse } from '../ollama/response';
import { ollamaStreamTranslator } from '../ollama/stream';
import { mistralBody } from './request';
import { parseMistralError, parseMistralResponse } from './response';
import { mistralStreamTranslator } from './stream';

const BASE = 'https://api.mistral.ai';

function isOllama(ctx: TargetContext): boolean {
  return ctx.options.mistral_format === 'ollama';
}

export const mistralProvider: Provider = {
  name: 'mistral',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  // Legacy completions only through Ollama: La Plateforme has no such operation.
  serves: (routeType, options) => routeType !== 'llm/v1/completions' || options.mistral_format === 'ollama',
  framing: (ctx) => (isOllama(ctx) ? 'ndjson' : 'sse'),
  async buildRequest(req, ctx) {
    const o = ctx.options;
    if (req.routeType === 'preserve') {
      const url = isOllama(ctx) ? upstreamUrlWithDefaultPath(ctx, '') : resolveUrl(o, BASE, '');
      return applyConfiguredAuth(jsonRequest(url, req.body), ctx);
    }
    if (isOllama(ctx)) {
      const url = upstreamUrlWithDefaultPath(ctx, OLLAMA_PATHS[req.routeType]);
      return applyConfiguredAuth(jsonRequest(url, ollamaRequestBody(req, ctx)), ctx);
    }
    // A backstop for callers that skip `serves` (the config check and prepare.ts refuse this first).
    if (req.routeType === 'llm/v1/completions') {
      throw new TranslationError("Mistral's API has no legacy completions; use llm/v1/chat, or mistral_format ollama");
    }
    const path = req.routeType === 'llm/v1/embeddings' ? '/v1/embeddings' : '/v1/chat/completions';
    return applyConfiguredAuth(jsonRequest(resolveUrl(o, BASE, path), mistralBody(req, ctx)), ctx);
  },
  parseResponse(body, ctx) {
    return isOllama(ctx) ? parseOllamaResponse(body, ctx) : parseMistralResponse(body, ctx);
  },
  streamTranslator(ctx) {
    return isOllama(ctx) ? ollamaStreamTranslator(ctx) : mistralStreamTranslator(ctx);
  },
  parseError(status, body, ctx) {
    return isOllama(ctx) ? parseOpenAIStyleError(status, body, ctx) : parseMistralError(status, body, ctx);
  },
  nativeUsage: (body, ctx) => (isOllama(ctx) ? ollamaUsage(body) : openaiUsage(body)),
};
