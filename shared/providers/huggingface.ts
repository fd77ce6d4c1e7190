// Hugging Face: chat through the Inference Providers router's OpenAI-compatible API, legacy completions
// through the text-generation task (Text Generation Inference's native `{inputs, parameters}` API),
// embeddings through the feature-extraction task. Also home of the TGI pieces llama2 (raw format) reuses,
// and of the lenient reading of OpenAI-compatible servers (TGI, vLLM, llama.cpp) that llama2 (openai
// format) reuses.
//
// Facts: huggingface/hub-docs docs/inference-providers/tasks/{chat-completion,text-generation,
// feature-extraction}.md; huggingface.js packages/inference/src/providers/hf-inference.ts (router URLs);
// huggingface/text-generation-inference router/src/{lib.rs,server.rs,validation.rs} (GenerateParameters,
// Details, StreamResponse, StreamDetails.input_length, ErrorResponse, error_type → status, parameter checks).
//
// Differences from Kong (kong-ai-plugins.md §2.4–2.7):
// - Kong posts to https://api-inference.huggingface.co/models/{model}[/v1/chat/completions]; that serverless
//   API was replaced by the router: chat goes to https://router.huggingface.co/v1/chat/completions with
//   the model in the body, the tasks to https://router.huggingface.co/hf-inference/models/{model}[/pipeline/…].
// - Kong sends options {use_cache, wait_for_model} in the body; the API reads them as the `x-use-cache`
//   and `x-wait-for-model` headers (the body `options` object was the pre-2024 form), so we send headers.
// - Kong reports finish_reason "complete" and the route type as `object`; we map TGI's reasons
//   (eos_token, stop_sequence → stop; length) and report OpenAI objects.
import type {
  ChatCompletion, ChatCompletionChunk, ChatRequest, CompletionRequest, EmbeddingsList, EmbeddingsRequest, FinishReason,
  OpenAIRequestBody, OpenAIResponseBody, TextCompletion, ToolCall, ToolCallDelta, Usage,
} from '../openai/types';
import { applyConfiguredAuth } from './auth';
import { fallbackMessage, parseOpenAIStyleError, providerError } from './errors';
import { eventJson, isObject, num, type Json } from './json';
import { singlePrompt, stopList } from './ollama-format';
import { jsonRequest, openaiBody, parseOpenAIResponse } from './openai';
import { openaiUsage } from './native-usage';
import { encodePathSegment, resolveUrl } from './upstream';
import {
  ProviderStreamError, TranslationError, type Provider, type ProviderError, type StreamChunk, type StreamTranslator,
  type TargetContext, type UpstreamEvent,
} from './types';


const ROUTER = 'https://router.huggingface.co';

// ---------------------------------------------------------------------------------------------------
// Text Generation Inference, native API: POST / or /generate(_stream), {inputs, parameters, stream}
// ---------------------------------------------------------------------------------------------------

/**
 * OpenAI sampling fields as TGI `parameters`. TGI refuses temperature <= 0, top_p outside (0, 1) and
 * top_k <= 0 (validation.rs), where OpenAI's 0 / 1 mean "greedy" / "no filtering": such values are left
 * out (TGI then decodes greedily / does not filter). `details` gives the finish reason and token counts;
 * `decoder_input_details` adds the prompt tokens (`prefill`), which TGI refuses on streams, where the
 * final event's `details.input_length` gives them instead (TGI's own OpenAI layer asks the same way).
 * `return_full_text: false` keeps the prompt out of the answer (the HF API's default is to echo it).
 */
export function tgiParameters(body: ChatRequest | CompletionRequest, ctx: TargetContext): Json {
  const p: Json = {};
  const maxTokens = num(body.max_tokens) ?? num(body.max_completion_tokens);
  if (maxTokens !== undefined) p.max_new_tokens = maxTokens;
  const temperature = num(body.temperature);
  if (temperature !== undefined && temperature > 0) p.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined && topP > 0 && topP < 1) p.top_p = topP;
  const topK = num(body.top_k);
  if (topK !== undefined && topK > 0) p.top_k = topK;
  const stop = stopList(body.stop);
  if (stop && stop.length > 0) p.stop = stop;
  const seed = num(body.seed);
  if (seed !== undefined) p.seed = seed;
  for (const k of ['frequency_penalty', 'repetition_penalty'] as const) {
    const v = num(body[k]);
    if (v !== undefined) p[k] = v;
  }
  p.return_full_text = false;
  p.details = true;
  if (!ctx.stream) p.decoder_input_details = true;
  return p;
}

export function tgiGenerateBody(inputs: string, body: ChatRequest | CompletionRequest, ctx: TargetContext): Json {
  return { inputs, parameters: tgiParameters(body, ctx), stream: ctx.stream };
}

/** TGI finish reasons (Length, EndOfSequenceToken, StopSequence) into OpenAI's. */
export function tgiFinish(v: unknown): FinishReason {
  return v === 'length' ? 'length' : 'stop';
}

/** TGI's error_type into its HTTP status (server.rs `impl From<InferError>`), for errors inside a stream. */
function tgiErrorStatus(errorType: unknown): number {
  switch (errorType) {
    case 'validation': return 422;
    case 'generation': return 424;
    case 'overloaded': return 429;
    default: return 500;
  }
}

export interface TgiGeneration {
  text: string;
  finish: FinishReason;
  usage?: Usage;
}

/** `[{generated_text, details}]` (the HF API and TGI's POST /) or `{generated_text, details}` (/generate). */
export function parseTgiGeneration(body: unknown, ctx: TargetContext): TgiGeneration {
  const g = Array.isArray(body) ? body[0] : body;
  if (!isObject(g) || typeof g.generated_text !== 'string') {
    throw new TranslationError(`'generated_text' not in ${ctx.provider} response`);
  }
  const details = isObject(g.details) ? g.details : undefined;
  const out: TgiGeneration = { text: g.generated_text, finish: tgiFinish(details?.finish_reason) };
  const completion = num(details?.generated_tokens);
  const prompt = Array.isArray(details?.prefill) && details.prefill.length > 0 ? details.prefill.length : undefined;
  if (completion !== undefined && prompt !== undefined) {
    out.usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }
  return out;
}

/**
 * TGI's token stream (`data: {"index", "token": {"text", "special"}, "generated_text": null, "details": null}`,
 * the last event with `generated_text` and `details {finish_reason, generated_tokens, input_length}`; no
 * [DONE]) into chat or text-completion chunks. Special tokens (`</s>`) are not text. `trimStart` drops the
 * answer's leading whitespace (Llama-2 answers start with a space; Kong trims the non-streamed text too).
 */
export function tgiTokenStreamTranslator(ctx: TargetContext, opts: { trimStart: boolean }): StreamTranslator {
  const chat = ctx.routeType !== 'llm/v1/completions';
  const id = chat ? `chatcmpl-${ctx.requestId}` : `cmpl-${ctx.requestId}`;
  const created = ctx.now();
  const model = ctx.model;
  let usage: Usage | undefined;
  let done = false;
  let first = true;
  let leading = opts.trimStart;

  const chunk = (text: string, finish: FinishReason | null): StreamChunk => {
    if (chat) {
      const delta: ChatCompletionChunk['choices'][number]['delta'] = first ? { role: 'assistant', content: text } : { content: text };
      first = false;
      return { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] };
    }
    first = false;
    return { id, object: 'text_completion', created, model, choices: [{ index: 0, text, finish_reason: finish, logprobs: null }] };
  };

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (done) return [];
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) throw new TranslationError(`unexpected ${ctx.provider} stream event`);
      if (v.error !== undefined) {
        const message = typeof v.error === 'string' ? v.error : JSON.stringify(v.error);
        throw new ProviderStreamError(providerError(tgiErrorStatus(v.error_type), message, ctx,
          typeof v.error_type === 'string' ? v.error_type : null));
      }
      const out: StreamChunk[] = [];
      const token = isObject(v.token) ? v.token : undefined;
      let text = token && token.special !== true && typeof token.text === 'string' ? token.text : '';
      if (leading) {
        text = text.replace(/^\s+/, '');
        if (text !== '') leading = false;
      }
      if (text !== '' || (first && chat)) out.push(chunk(text, null));
      if (v.generated_text !== null && v.generated_text !== undefined) {
        done = true;
        const details = isObject(v.details) ? v.details : undefined;
        const completion = num(details?.generated_tokens);
        // input_length in current TGI; prompt_tokens in some 1.x releases.
        const prompt = num(details?.input_length) ?? num(details?.prompt_tokens);
        if (completion !== undefined && prompt !== undefined) {
          usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
        }
        out.push(chat
          ? { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: tgiFinish(details?.finish_reason) }] }
          : { id, object: 'text_completion', created, model, choices: [{ index: 0, text: '', finish_reason: tgiFinish(details?.finish_reason), logprobs: null }] });
      }
      return out;
    },
    end() {
      if (!done) throw new TranslationError(`${ctx.provider} stream ended before its final event (generated_text)`);
      return usage ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}

// ---------------------------------------------------------------------------------------------------
// OpenAI-compatible servers, read leniently (TGI's Messages API, vLLM, llama.cpp, the HF router)
// ---------------------------------------------------------------------------------------------------

/**
 * Finish reasons of OpenAI-compatible servers: OpenAI's own, TGI's eos_token / stop_sequence, the legacy
 * function_call. Anything else unknown counts as `stop`.
 */
function compatFinish(v: unknown): FinishReason | null {
  if (v === null || v === undefined) return null;
  if (v === 'length' || v === 'content_filter' || v === 'tool_calls') return v;
  if (v === 'function_call') return 'tool_calls';
  return 'stop';
}

/** A tool call as OpenAI sends it: TGI 2.x sent arguments as an object and a `description: null`. */
function compatToolCall(tc: unknown, fallbackId: string): ToolCall {
  const o = isObject(tc) ? tc : {};
  const fn = isObject(o.function) ? o.function : {};
  const args = fn.arguments;
  return {
    id: typeof o.id === 'string' && o.id !== '' ? o.id : fallbackId,
    type: 'function',
    function: {
      name: typeof fn.name === 'string' ? fn.name : '',
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    },
  };
}

/**
 * A non-streamed response of an OpenAI-compatible server, made exactly OpenAI's: empty ids (TGI) replaced,
 * `object` per route (old TGI said "text_completion" for chat), finish reasons mapped, tool calls with
 * string arguments and finish_reason `tool_calls` (TGI says `stop`).
 */
export function parseCompatResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  const r = parseOpenAIResponse(body, ctx);
  if (ctx.routeType === 'llm/v1/embeddings') return r;
  const out = r as unknown as Json;
  const chat = ctx.routeType === 'llm/v1/chat';
  if (typeof out.id !== 'string' || out.id === '') out.id = chat ? `chatcmpl-${ctx.requestId}` : `cmpl-${ctx.requestId}`;
  out.object = chat ? 'chat.completion' : 'text_completion';
  if (!num(out.created)) out.created = ctx.now();
  if (out.model === '') out.model = ctx.model;
  out.choices = (out.choices as unknown[]).map((c, i) => {
    const choice: Json = isObject(c) ? { ...c } : {};
    if (typeof choice.index !== 'number') choice.index = i;
    if (chat && isObject(choice.message)) {
      const message: Json = { ...choice.message };
      if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
        message.tool_calls = message.tool_calls.map((tc, j) => compatToolCall(tc, `call_${ctx.requestId}_${j}`));
        const f = compatFinish(choice.finish_reason);
        choice.finish_reason = f === 'stop' || f === null ? 'tool_calls' : f;
      } else {
        choice.finish_reason = compatFinish(choice.finish_reason);
      }
      choice.message = message;
    } else {
      choice.finish_reason = compatFinish(choice.finish_reason);
    }
    return choice;
  });
  return out as unknown as ChatCompletion | TextCompletion;
}

function usageOf(v: unknown): Usage | undefined {
  if (!isObject(v) || typeof v.prompt_tokens !== 'number') return undefined;
  const completion = num(v.completion_tokens) ?? 0;
  return { ...(v as object), prompt_tokens: v.prompt_tokens, completion_tokens: completion,
    total_tokens: num(v.total_tokens) ?? v.prompt_tokens + completion } as Usage;
}

/**
 * The SSE stream of an OpenAI-compatible server, made exactly OpenAI's. `[DONE]` ends it (TGI sends it
 * since 2.2; an older TGI's stream, closed without it, counts as cut); TGI's ids are empty and its finish
 * reasons its own;
 * TGI 2.x sent `delta.tool_calls` as one object, not a list, with object arguments; servers differ on
 * `usage` placement (captured wherever it comes; the pipeline emits the usage chunk). TGI errors inside
 * the stream (`{"error", "error_type"}`) keep their status.
 */
export function compatStreamTranslator(ctx: TargetContext): StreamTranslator {
  const chat = ctx.routeType !== 'llm/v1/completions';
  let usage: Usage | undefined;
  let done = false;
  let id: string | undefined;
  let created = 0;
  let model = '';
  const toolCallsByChoice = new Map<number, number>();
  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.data === '[DONE]') { done = true; return []; }
      if (done) return [];
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) return [];
      if (v.error !== undefined || ev.event === 'error') {
        if (typeof v.error === 'string') {
          throw new ProviderStreamError(providerError(tgiErrorStatus(v.error_type), v.error, ctx,
            typeof v.error_type === 'string' ? v.error_type : null));
        }
        throw new ProviderStreamError(parseOpenAIStyleError(500, v, ctx));
      }
      const u = usageOf(v.usage);
      if (u) usage = u;
      if (!Array.isArray(v.choices) || v.choices.length === 0) return [];
      if (id === undefined) {
        id = typeof v.id === 'string' && v.id !== '' ? v.id : chat ? `chatcmpl-${ctx.requestId}` : `cmpl-${ctx.requestId}`;
        created = num(v.created) || ctx.now();
        model = typeof v.model === 'string' && v.model !== '' ? v.model : ctx.model;
      }
      const choices = v.choices.map((c, i) => {
        const choice: Json = isObject(c) ? { ...c } : {};
        const index = typeof choice.index === 'number' ? choice.index : i;
        choice.index = index;
        let finish = compatFinish(choice.finish_reason);
        if (chat) {
          const delta: Json = isObject(choice.delta) ? { ...choice.delta } : {};
          const raw = delta.tool_calls;
          const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
          if (list) {
            delta.tool_calls = list.map((tc): ToolCallDelta => {
              const o = isObject(tc) ? tc : {};
              const fn = isObject(o.function) ? o.function : {};
              const seen = toolCallsByChoice.get(index) ?? 0;
              const starts = (typeof o.id === 'string' && o.id !== '') || (typeof fn.name === 'string' && fn.name !== '');
              const callIndex = typeof o.index === 'number' ? o.index : starts ? seen : Math.max(seen - 1, 0);
              if (callIndex + 1 > seen) toolCallsByChoice.set(index, callIndex + 1);
              const out: ToolCallDelta = { index: callIndex };
              if (typeof o.id === 'string' && o.id !== '') out.id = o.id;
              else if (starts) out.id = `call_${ctx.requestId}_${callIndex}`;
              if (starts) out.type = 'function';
              const f: { name?: string; arguments?: string } = {};
              if (typeof fn.name === 'string' && fn.name !== '') f.name = fn.name;
              if (fn.arguments !== undefined && fn.arguments !== null) {
                f.arguments = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments);
              }
              out.function = f;
              return out;
            });
          }
          choice.delta = delta;
          if (finish === 'stop' && toolCallsByChoice.has(index)) finish = 'tool_calls';
        }
        choice.finish_reason = finish;
        return choice;
      });
      const chunk: Json = { ...v, id, created, model, object: chat ? 'chat.completion.chunk' : 'text_completion', choices };
      if (ctx.includeUsage) chunk.usage = null;
      else delete chunk.usage;
      return [chunk as unknown as StreamChunk];
    },
    end() {
      if (!done) throw new TranslationError(`${ctx.provider} stream ended before [DONE]`);
      return usage ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}

// ---------------------------------------------------------------------------------------------------
// Hugging Face
// ---------------------------------------------------------------------------------------------------

/** `x-use-cache` / `x-wait-for-model` from model.options.huggingface (sent only when configured). */
function hfHeaders(ctx: TargetContext): Record<string, string> {
  const h: Record<string, string> = {};
  const o = ctx.options.huggingface;
  if (o?.use_cache !== null && o?.use_cache !== undefined) h['x-use-cache'] = String(o.use_cache);
  if (o?.wait_for_model !== null && o?.wait_for_model !== undefined) h['x-wait-for-model'] = String(o.wait_for_model);
  return h;
}

/** A model id in a URL path: the namespace slash stays a slash. */
function modelPath(model: string): string {
  return model.split('/').map(encodePathSegment).join('/');
}

/** HF errors: `{"error": "..."}` (TGI adds error_type), a list of messages, 503 with `estimated_time` while loading. */
export function parseHuggingFaceError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  if (!isObject(body)) return providerError(status, fallbackMessage(status, body), ctx);
  const e = body.error;
  if (typeof e === 'string' || Array.isArray(e)) {
    let message = typeof e === 'string' ? e : e.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ');
    const eta = num(body.estimated_time);
    if (eta !== undefined) message = `${message} (estimated time to load: ${Math.ceil(eta)}s)`;
    const code = typeof body.error_type === 'string' ? body.error_type : eta !== undefined ? 'model_loading' : null;
    return providerError(status, message, ctx, code);
  }
  return parseOpenAIStyleError(status, body, ctx);
}

/** Feature-extraction output (one vector per input, inputs always sent as a list) into an embeddings list. */
function parseFeatureExtraction(body: unknown, ctx: TargetContext): EmbeddingsList {
  if (!Array.isArray(body)) throw new TranslationError(`failed to decode ${ctx.routeType} response from huggingface`);
  const rows = body.length > 0 && typeof body[0] === 'number' ? [body] : body;
  const data = rows.map((row, index) => {
    if (!Array.isArray(row) || !row.every((x) => typeof x === 'number')) {
      // A model without sentence pooling returns one vector per token.
      throw new TranslationError('huggingface feature-extraction returned token-level features, not one embedding per input; use a sentence-embedding model');
    }
    return { object: 'embedding' as const, index, embedding: row as number[] };
  });
  // The task reports no token counts: usage says 0, the field being required by OpenAI's shape (as for Gemini).
  return { object: 'list', data, model: ctx.model, usage: { prompt_tokens: 0, total_tokens: 0 } };
}

function hfPrompt(body: OpenAIRequestBody, ctx: TargetContext): string {
  return singlePrompt((body as CompletionRequest).prompt, ctx.provider);
}

export const huggingfaceProvider: Provider = {
  name: 'huggingface',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'sse',
  async buildRequest(body, ctx) {
    const o = ctx.options;
    const headers = hfHeaders(ctx);
    switch (ctx.routeType) {
      case 'preserve':
        return applyConfiguredAuth(jsonRequest(resolveUrl(o, ROUTER, ''), body, headers), ctx);
      case 'llm/v1/chat':
        return applyConfiguredAuth(jsonRequest(resolveUrl(o, ROUTER, '/v1/chat/completions'), openaiBody(body, ctx), headers), ctx);
      case 'llm/v1/completions': {
        const url = resolveUrl(o, `${ROUTER}/hf-inference/models/${modelPath(ctx.model)}`, '');
        return applyConfiguredAuth(jsonRequest(url, tgiGenerateBody(hfPrompt(body, ctx), body as CompletionRequest, ctx), headers), ctx);
      }
      case 'llm/v1/embeddings': {
        const e = body as EmbeddingsRequest;
        if (e.dimensions !== undefined) throw new TranslationError('huggingface feature-extraction does not support dimensions');
        const url = resolveUrl(o, `${ROUTER}/hf-inference/models/${modelPath(ctx.model)}/pipeline/feature-extraction`, '');
        // Always a list, so the answer is always one vector per input.
        const inputs = typeof e.input === 'string' ? [e.input] : e.input;
        return applyConfiguredAuth(jsonRequest(url, { inputs }, headers), ctx);
      }
    }
  },
  parseResponse(body, ctx) {
    if (ctx.routeType === 'llm/v1/embeddings') return parseFeatureExtraction(body, ctx);
    if (ctx.routeType === 'llm/v1/completions') {
      const g = parseTgiGeneration(body, ctx);
      const out: TextCompletion = {
        id: `cmpl-${ctx.requestId}`, object: 'text_completion', created: ctx.now(), model: ctx.model,
        choices: [{ index: 0, text: g.text, finish_reason: g.finish, logprobs: null }],
      };
      if (g.usage) out.usage = g.usage;
      return out;
    }
    return parseCompatResponse(body, ctx);
  },
  streamTranslator(ctx) {
    return ctx.routeType === 'llm/v1/completions' ? tgiTokenStreamTranslator(ctx, { trimStart: false }) : compatStreamTranslator(ctx);
  },
  parseError: parseHuggingFaceError,
  nativeUsage: openaiUsage,
};
