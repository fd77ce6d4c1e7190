// Llama (provider `llama2`): a self-hosted server at model.options.upstream_url (required), spoken in
// the format model.options.llama2_format names:
// - `openai`: an OpenAI-compatible server (vLLM, llama.cpp, TGI, Ollama's /v1): OpenAI's body, the
//   answer read leniently (huggingface.ts compat*);
// - `ollama`: Ollama's native API (ollama-format.ts);
// - `raw`: Llama-2-chat's prompt template over TGI's native API (llama2-raw.ts, huggingface.ts tgi*);
//   the answer may also come in the `{"data": [...]}` shape Kong's raw driver reads.
// An upstream_url without a path gets the route's usual path (/v1/chat/completions, /api/chat, ...);
// with a path it is used as is, as in Kong.
import type { ChatRequest, CompletionRequest } from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { parseOpenAIStyleError } from './errors';
import { compatStreamTranslator, parseCompatResponse, parseHuggingFaceError, parseTgiGeneration, tgiGenerateBody,
  tgiTokenStreamTranslator } from './huggingface';
import { llama2Answer, llama2Inputs, llama2RawGeneration } from './llama2-raw';
import { OLLAMA_PATHS, ollamaRequestBody, ollamaStreamTranslator, parseOllamaResponse, upstreamUrlWithDefaultPath } from './ollama-format';
import { jsonRequest, OPENAI_PATHS, openaiBody } from './openai';
import { ollamaUsage, openaiUsage } from './native-usage';
import { TranslationError, type Provider, type TargetContext } from './types';

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
  async buildRequest(body, ctx) {
    if (ctx.routeType === 'preserve') {
      return applyConfiguredAuth(jsonRequest(upstreamUrlWithDefaultPath(ctx, ''), body), ctx);
    }
    const format = formatOf(ctx);
    if (format === 'openai') {
      const url = upstreamUrlWithDefaultPath(ctx, OPENAI_PATHS[ctx.routeType]);
      return applyConfiguredAuth(jsonRequest(url, openaiBody(body, ctx)), ctx);
    }
    if (format === 'ollama') {
      const url = upstreamUrlWithDefaultPath(ctx, OLLAMA_PATHS[ctx.routeType]);
      return applyConfiguredAuth(jsonRequest(url, ollamaRequestBody(body, ctx)), ctx);
    }
    // A backstop for callers that skip `serves` (the config check and prepare.ts refuse this first).
    if (ctx.routeType === 'llm/v1/embeddings') {
      throw new TranslationError('llama2 raw format has no embeddings; use llama2_format openai or ollama');
    }
    const inputs = llama2Inputs(body, ctx);
    const url = upstreamUrlWithDefaultPath(ctx, '');
    return applyConfiguredAuth(jsonRequest(url, tgiGenerateBody(inputs, body as ChatRequest | CompletionRequest, ctx)), ctx);
  },
  parseResponse(body, ctx) {
    const format = formatOf(ctx);
    if (format === 'openai') return parseCompatResponse(body, ctx);
    if (format === 'ollama') return parseOllamaResponse(body, ctx);
    const raw = llama2RawGeneration(body);
    const g = parseTgiGeneration(raw.generation, ctx);
    const text = llama2Answer(g.text);
    const usage = g.usage ?? raw.usage;
    if (ctx.routeType === 'llm/v1/completions') {
      return {
        id: `cmpl-${ctx.requestId}`, object: 'text_completion', created: ctx.now(), model: ctx.model,
        choices: [{ index: 0, text, finish_reason: g.finish, logprobs: null }],
        ...(usage ? { usage } : {}),
      };
    }
    return {
      id: `chatcmpl-${ctx.requestId}`, object: 'chat.completion', created: ctx.now(), model: ctx.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: g.finish }],
      ...(usage ? { usage } : {}),
    };
  },
  streamTranslator(ctx) {
    const format = formatOf(ctx);
    if (format === 'openai') return compatStreamTranslator(ctx);
    if (format === 'ollama') return ollamaStreamTranslator(ctx);
    return tgiTokenStreamTranslator(ctx, { trimStart: true });
  },
  parseError(status, body, ctx) {
    // TGI answers `{"error", "error_type"}`, Ollama `{"error": "..."}`, OpenAI-compatible servers OpenAI's shape.
    return ctx.options.llama2_format === 'raw' ? parseHuggingFaceError(status, body, ctx) : parseOpenAIStyleError(status, body, ctx);
  },
  nativeUsage: (body, ctx) => (formatOf(ctx) === 'ollama' ? ollamaUsage(body) : openaiUsage(body)),
};
