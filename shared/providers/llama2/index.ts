// Llama (provider `llama2`): a self-hosted server at model.options.upstream_url (required), spoken in
// the format model.options.llama2_format names:
// - `openai`: an OpenAI-compatible server (vLLM, llama.cpp, TGI, Ollama's /v1): OpenAI's body, the
//   answer read leniently (openai-compatible/);
// - `ollama`: Ollama's native API (ollama/);
// - `raw`: Llama-2-chat's prompt template over TGI's native API (raw.ts, tgi/);
//   the answer may also come in the `{"data": [...]}` shape Kong's raw driver reads.
// An upstream_url without a path gets the route's usual path (/v1/chat/completions, /api/chat, ...);
// with a path it is used as is, as in Kong.
import { applyConfiguredAuth } from '../core/auth';
import { parseOpenAIStyleError } from '../core/errors';
import { jsonRequest } from '../core/json-request';
import { ollamaUsage, openaiUsage } from '../core/native-usage';
import { TranslationError, type Provider, type TargetContext } from '../core/types';
import { upstreamUrlWithDefaultPath } from '../core/upstream';
import { OLLAMA_PATHS, ollamaRequestBody } from '../ollama/request';
import { parseOllamaResponse } from '../ollama/response';
import { ollamaStreamTranslator } from '../ollama/stream';
import { parseCompatResponse } from '../openai-compatible/response';
import { compatStreamTranslator } from '../openai-compatible/stream';
import { OPENAI_PATHS, openaiBody } from '../openai-format/request';
import { parseTgiError } from '../tgi/errors';
import { tgiGenerateBody } from '../tgi/request';
import { tgiTokenStreamTranslator } from '../tgi/stream';
import { llama2Inputs, parseLlama2Raw } from './raw';

type Llama2Format = 'raw' | 'openai' | 'ollama';

function formatOf(ctx: TargetContext): Llama2Format {
  const f = ctx.options.llama2_format;
  if (f === null) throw new TranslationError('llama2 requires model.options.llama2_format (raw, openai or ollama)');
  return f;
}

export const llama2Provider: Provider = {
  name: 'llama2',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  // The raw format is a prompt template over text generation: it has no embeddings.
  serves: (routeType, options) => routeType !== 'llm/v1/embeddings' || options.llama2_format !== 'raw',
  framing: (ctx) => (ctx.options.llama2_format === 'ollama' ? 'ndjson' : 'sse'),
  async buildRequest(req, ctx) {
    if (req.routeType === 'preserve') {
      return applyConfiguredAuth(jsonRequest(upstreamUrlWithDefaultPath(ctx, ''), req.body), ctx);
    }
    const format = formatOf(ctx);
    if (format === 'openai') {
      const url = upstreamUrlWithDefaultPath(ctx, OPENAI_PATHS[req.routeType]);
      return applyConfiguredAuth(jsonRequest(url, openaiBody(req, ctx)), ctx);
    }
    if (format === 'ollama') {
      const url = upstreamUrlWithDefaultPath(ctx, OLLAMA_PATHS[req.routeType]);
      return applyConfiguredAuth(jsonRequest(url, ollamaRequestBody(req, ctx)), ctx);
    }
    // A backstop for callers that skip `serves` (the config check and prepare.ts refuse this first).
    if (req.routeType === 'llm/v1/embeddings') {
      throw new TranslationError('llama2 raw format has no embeddings; use llama2_format openai or ollama');
    }
    const inputs = llama2Inputs(req, ctx);
    const url = upstreamUrlWithDefaultPath(ctx, '');
    return applyConfiguredAuth(jsonRequest(url, tgiGenerateBody(inputs, req.body, ctx)), ctx);
  },
  parseResponse(body, ctx) {
    const format = formatOf(ctx);
    if (format === 'openai') return parseCompatResponse(body, ctx);
    if (format === 'ollama') return parseOllamaResponse(body, ctx);
    return parseLlama2Raw(body, ctx);
  },
  streamTranslator(ctx) {
    const format = formatOf(ctx);
    if (format === 'openai') return compatStreamTranslator(ctx);
    if (format === 'ollama') return ollamaStreamTranslator(ctx);
    return tgiTokenStreamTranslator(ctx, { trimStart: true });
  },
  parseError(status, body, ctx) {
    // TGI answers `{"error", "error_type"}`, Ollama `{"error": "..."}`, OpenAI-compatible servers OpenAI's shape.
    return ctx.options.llama2_format === 'raw' ? parseTgiError(status, body, ctx) : parseOpenAIStyleError(status, body, ctx);
  },
  nativeUsage: (body, ctx) => (formatOf(ctx) === 'ollama' ? ollamaUsage(body) : openaiUsage(body)),
};
