// Gemini responses (GenerateContentResponse, batchEmbedContents, Vertex :predict), streams and errors
// into OpenAI's shapes. Finish reasons and usage follow provider-formats.md §0.2 / §0.3.
import type {
  ChatCompletion, ChatCompletionChunk, EmbeddingsList, FinishReason, TextCompletion, ToolCall, ToolCallDelta, Usage,
} from '../openai/types';
import { fallbackMessage, providerError } from './errors';
import {
  ProviderStreamError, TranslationError, type ProviderError, type StreamChunk, type StreamTranslator, type TargetContext,
  type TextCompletionChunk, type UpstreamEvent,
} from './types';
import { eventJson, isObject, num, type Json } from './json';

// ---- finish reasons and usage ----

const CONTENT_FILTER = new Set([
  'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini's finishReason in OpenAI's terms. There is no tool finish reason: a candidate that called a
 * function says STOP, so `tool_calls` comes from the parts. MALFORMED_FUNCTION_CALL, OTHER, LANGUAGE and
 * values added later end the choice as `stop` (the choice is over; its content says what there is).
 */
export function mapFinishReason(reason: string, calledTools: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

/**
 * usageMetadata in OpenAI's terms: prompt = promptTokenCount (+ toolUsePromptTokenCount), completion =
 * candidatesTokenCount + thoughtsTokenCount (thinking is billed as output), total as Gemini counts it.
 */
export function mapUsage(meta: unknown): Usage | undefined {
  if (!isObject(meta)) return undefined;
  const promptCount = num(meta.promptTokenCount);
  if (promptCount === undefined) return undefined;
  const prompt = promptCount + (num(meta.toolUsePromptTokenCount) ?? 0);
  const thoughts = num(meta.thoughtsTokenCount);
  const completion = (num(meta.candidatesTokenCount) ?? 0) + (thoughts ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: num(meta.totalTokenCount) ?? prompt + completion };
  const cached = num(meta.cachedContentTokenCount);
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts !== undefined) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

// ---- response identity ----

/** `modelVersion` as the model (without a `models/` prefix, which the stream sometimes carries). */
function modelOf(body: Json, ctx: TargetContext): string {
  return typeof body.modelVersion === 'string' && body.modelVersion !== '' ? body.modelVersion.replace(/^models\//, '') : ctx.model;
}

function idOf(body: Json, ctx: TargetContext): string {
  if (typeof body.responseId === 'string' && body.responseId !== '') return body.responseId;
  return ctx.routeType === 'llm/v1/completions' ? `cmpl-${ctx.requestId}` : `chatcmpl-${ctx.requestId}`;
}

/** Vertex AI sends `createTime` (RFC 3339); AI Studio sends nothing. */
function createdOf(body: Json, ctx: TargetContext): number {
  if (typeof body.createTime === 'string') {
    const t = Date.parse(body.createTime);
    if (Number.isFinite(t)) return Math.floor(t / 1000);
  }
  return ctx.now();
}

function toolCallId(ctx: TargetContext, choice: number, k: number): string {
  return choice === 0 ? `call_${ctx.requestId}_${k}` : `call_${ctx.requestId}_${choice}_${k}`;
}

type GeminiToolCall = ToolCall & { extra_content?: { google: { thought_signature: string } } };

/** One candidate's parts: the answer text (thought summaries left out), and its function calls. */
function readParts(candidate: Json): { text: string; sawText: boolean; calls: Array<{ name: string; args: unknown; id?: string; signature?: string }> } {
  const content = isObject(candidate.content) ? candidate.content : {};
  const parts = Array.isArray(content.parts) ? content.parts : [];
  let text = '';
  let sawText = false;
  const calls: Array<{ name: string; args: unknown; id?: string; signature?: string }> = [];
  for (const p of parts) {
    if (!isObject(p)) continue;
    if (isObject(p.functionCall) && typeof p.functionCall.name === 'string') {
      const call: { name: string; args: unknown; id?: string; signature?: string } = { name: p.functionCall.name, args: p.functionCall.args ?? {} };
      if (typeof p.functionCall.id === 'string' && p.functionCall.id !== '') call.id = p.functionCall.id;
      if (typeof p.thoughtSignature === 'string') call.signature = p.thoughtSignature;
      calls.push(call);
    } else if (typeof p.text === 'string' && p.thought !== true) {
      text += p.text;
      sawText = true;
    }
  }
  return { text, sawText, calls };
}

function toolCall(c: { name: string; args: unknown; id?: string; signature?: string }, id: string): GeminiToolCall {
  const call: GeminiToolCall = { id: c.id ?? id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } };
  if (c.signature !== undefined) call.extra_content = { google: { thought_signature: c.signature } };
  return call;
}

function candidatesOf(body: Json): Json[] {
  return Array.isArray(body.candidates) ? body.candidates.filter(isObject) : [];
}

function blockReasonOf(body: Json): string | undefined {
  const pf = body.promptFeedback;
  return isObject(pf) && typeof pf.blockReason === 'string' ? pf.blockReason : undefined;
}

// ---- non-streaming ----

export function parseGenerateContent(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  if (!isObject(body)) throw new TranslationError('failed to decode response from Gemini');
  const candidates = candidatesOf(body);
  const base = { id: idOf(body, ctx), created: createdOf(body, ctx), model: modelOf(body, ctx) };
  const usage = mapUsage(body.usageMetadata);
  const completions = ctx.routeType === 'llm/v1/completions';

  if (candidates.length === 0) {
    // A blocked prompt is an HTTP 200 with promptFeedback and no candidates: an empty, filtered answer.
    if (blockReasonOf(body) === undefined) throw new TranslationError('no generation candidates received from Gemini');
    if (completions) {
      return { ...base, object: 'text_completion', choices: [{ index: 0, text: '', finish_reason: 'content_filter', logprobs: null }], ...(usage ? { usage } : {}) };
    }
    return { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }], ...(usage ? { usage } : {}) };
  }

  if (completions) {
    const choices = candidates.map((c, i) => {
      const { text, calls } = readParts(c);
      const index = num(c.index) ?? i;
      const finish = typeof c.finishReason === 'string' ? mapFinishReason(c.finishReason, calls.length > 0) : null;
      return { index, text, finish_reason: finish, logprobs: null };
    });
    return { ...base, object: 'text_completion', choices, ...(usage ? { usage } : {}) };
  }

  const choices = candidates.map((c, i) => {
    const { text, sawText, calls } = readParts(c);
    const index = num(c.index) ?? i;
    const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: sawText ? text : null };
    if (calls.length > 0) message.tool_calls = calls.map((call, k) => toolCall(call, toolCallId(ctx, index, k)));
    const finish = typeof c.finishReason === 'string' ? mapFinishReason(c.finishReason, calls.length > 0) : null;
    return { index, message, finish_reason: finish };
  });
  return { ...base, object: 'chat.completion', choices, ...(usage ? { usage } : {}) };
}

function embeddingList(vectors: number[][], ctx: TargetContext, promptTokens: number): EmbeddingsList {
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: v })),
    model: ctx.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function numberArray(v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new TranslationError('embedding values missing in Gemini response');
  return v;
}

/**
 * batchEmbedContents (`{"embeddings": [{"values": [...]}]}`, no token counts: usage reports 0, the
 * field being required by OpenAI's shape) or Vertex :predict (`predictions[].embeddings` with
 * `statistics.token_count`, summed into usage).
 */
export function parseEmbeddings(body: unknown, ctx: TargetContext): EmbeddingsList {
  if (!isObject(body)) throw new TranslationError('failed to decode embeddings response from Gemini');
  if (Array.isArray(body.embeddings)) {
    return embeddingList(body.embeddings.map((e) => numberArray(isObject(e) ? e.values : undefined)), ctx, 0);
  }
  if (Array.isArray(body.predictions)) {
    let tokens = 0;
    const vectors = body.predictions.map((p) => {
      const e = isObject(p) && isObject(p.embeddings) ? p.embeddings : {};
      const stats = isObject(e.statistics) ? e.statistics : {};
      tokens += num(stats.token_count) ?? 0;
      return numberArray(e.values);
    });
    return embeddingList(vectors, ctx, tokens);
  }
  throw new TranslationError("'embeddings' not in Gemini embeddings response");
}

// ---- errors ----

/**
 * google.rpc.Status (`{"error": {"code", "message", "status", "details"}}`, sometimes wrapped in a
 * one-element array by streamGenerateContent) into OpenAI's shape: the HTTP status kept, `status`
 * (RESOURCE_EXHAUSTED, INVALID_ARGUMENT, ...) as the code.
 */
export function parseGeminiError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const b = Array.isArray(body) && body.length > 0 ? body[0] : body;
  const e = isObject(b) ? b.error : undefined;
  if (isObject(e)) {
    const message = typeof e.message === 'string' && e.message !== '' ? e.message : fallbackMessage(status, body);
    const code = typeof e.status === 'string' ? e.status : typeof e.code === 'number' ? String(e.code) : null;
    return providerError(status, message, ctx, code);
  }
  if (typeof e === 'string') return providerError(status, e, ctx);
  return providerError(status, fallbackMessage(status, body), ctx);
}

// ---- streaming ----

interface ChoiceState {
  started: boolean;
  finished: boolean;
  toolCalls: number;
}

/**
 * `streamGenerateContent?alt=sse`: every event is a whole GenerateContentResponse fragment; text arrives
 * in pieces, a function call whole, usageMetadata repeated and cumulative (so it is replaced, never
 * added), finishReason on a candidate's last event, and the stream ends by closing (no sentinel).
 */
export function geminiStreamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  const choices = new Map<number, ChoiceState>();
  let ident: { id: string; created: number; model: string } | undefined;
  let usage: Usage | undefined;
  let blocked = false;

  const chatChunk = (index: number, delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
    ...ident!, object: 'chat.completion.chunk', choices: [{ index, delta, finish_reason: finish }],
  });
  const textChunk = (index: number, text: string, finish: FinishReason | null): TextCompletionChunk => ({
    ...ident!, object: 'text_completion', choices: [{ index, text, finish_reason: finish, logprobs: null }],
  });

  const state = (index: number): ChoiceState => {
    let s = choices.get(index);
    if (s === undefined) {
      s = { started: false, finished: false, toolCalls: 0 };
      choices.set(index, s);
    }
    return s;
  };

  const candidateChunks = (c: Json, position: number): StreamChunk[] => {
    const index = num(c.index) ?? position;
    const s = state(index);
    const { text, calls } = readParts(c);
    const out: StreamChunk[] = [];
    if (completions) {
      if (text !== '') out.push(textChunk(index, text, null));
    } else {
      const delta: ChatCompletionChunk['choices'][number]['delta'] = {};
      if (!s.started) delta.role = 'assistant';
      if (text !== '') delta.content = text;
      if (calls.length > 0) {
        delta.tool_calls = calls.map((call): ToolCallDelta => {
          const k = s.toolCalls++;
          const full = toolCall(call, toolCallId(ctx, index, k));
          return { index: k, ...full };
        });
      }
      if (delta.content !== undefined || delta.tool_calls !== undefined) {
        if (!s.started && delta.content === undefined) delta.content = null;
        out.push(chatChunk(index, delta, null));
        s.started = true;
      }
    }
    if (typeof c.finishReason === 'string' && !s.finished) {
      s.finished = true;
      const finish = mapFinishReason(c.finishReason, s.toolCalls > 0 || calls.length > 0);
      if (completions) out.push(textChunk(index, '', finish));
      else out.push(chatChunk(index, s.started ? {} : { role: 'assistant', content: null }, finish));
      s.started = true;
    }
    return out;
  };

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.data.trim() === '') return [];
      let v = eventJson(ev.data, 'gemini');
      if (Array.isArray(v) && v.length === 1) v = v[0];
      if (!isObject(v)) throw new TranslationError('unexpected stream event from Gemini');
      if (v.error !== undefined) {
        const e = isObject(v.error) ? v.error : {};
        throw new ProviderStreamError(parseGeminiError(num(e.code) ?? 500, v, ctx));
      }
      ident ??= { id: idOf(v, ctx), created: createdOf(v, ctx), model: modelOf(v, ctx) };
      const u = mapUsage(v.usageMetadata);
      if (u !== undefined) usage = u;
      const candidates = candidatesOf(v);
      if (candidates.length === 0) {
        if (blockReasonOf(v) === undefined || blocked) return [];
        blocked = true;
        state(0).finished = true;
        return completions ? [textChunk(0, '', 'content_filter')]
          : [chatChunk(0, { role: 'assistant', content: null }, 'content_filter')];
      }
      return candidates.flatMap((c, i) => candidateChunks(c, i));
    },
    end() {
      if (choices.size === 0) throw new TranslationError('Gemini stream ended before any candidate');
      for (const [index, s] of choices) {
        if (!s.finished) throw new TranslationError(`Gemini stream ended before candidate ${index} finished`);
      }
      return usage !== undefined ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}
