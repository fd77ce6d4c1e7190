// Gemini responses (GenerateContentResponse, batchEmbedContents, Vertex :predict) and errors into
// OpenAI's shapes, and the readers the stream (stream.ts) shares with them. Finish reasons and usage
// follow docs/provider-formats.md §0.2 / §0.3.
import type { ChatCompletion, EmbeddingsList, FinishReason, TextCompletion, ToolCall, Usage } from '../../openai/types';
import { fallbackMessage, providerError } from '../core/errors';
import { isObject, num, type Json } from '../core/json';
import { UpstreamFormatError, type ProviderError, type TargetContext } from '../core/types';

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
export function modelOf(body: Json, ctx: TargetContext): string {
  return typeof body.modelVersion === 'string' && body.modelVersion !== '' ? body.modelVersion.replace(/^models\//, '') : ctx.model;
}

export function idOf(body: Json, ctx: TargetContext): string {
  if (typeof body.responseId === 'string' && body.responseId !== '') return body.responseId;
  return ctx.routeType === 'llm/v1/completions' ? `cmpl-${ctx.requestId}` : `chatcmpl-${ctx.requestId}`;
}

/** Vertex AI sends `createTime` (RFC 3339); AI Studio sends nothing. */
export function createdOf(body: Json, ctx: TargetContext): number {
  if (typeof body.createTime === 'string') {
    const t = Date.parse(body.createTime);
    if (Number.isFinite(t)) return Math.floor(t / 1000);
  }
  return ctx.now();
}

export function toolCallId(ctx: TargetContext, choice: number, k: number): string {
  return choice === 0 ? `call_${ctx.requestId}_${k}` : `call_${ctx.requestId}_${choice}_${k}`;
}

type GeminiToolCall = ToolCall & { extra_content?: { google: { thought_signature: string } } };

/** One candidate's parts: the answer text (thought summaries left out), and its function calls. */
export function readParts(candidate: Json): { text: string; sawText: boolean; calls: Array<{ name: string; args: unknown; id?: string; signature?: string }> } {
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

export function toolCall(c: { name: string; args: unknown; id?: string; signature?: string }, id: string): GeminiToolCall {
  const call: GeminiToolCall = { id: c.id ?? id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } };
  if (c.signature !== undefined) call.extra_content = { google: { thought_signature: c.signature } };
  return call;
}

export function candidatesOf(body: Json): Json[] {
  return Array.isArray(body.candidates) ? body.candidates.filter(isObject) : [];
}

export function blockReasonOf(body: Json): string | undefined {
  const pf = body.promptFeedback;
  return isObject(pf) && typeof pf.blockReason === 'string' ? pf.blockReason : undefined;
}

// ---- non-streaming ----

export function parseGenerateContent(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  if (!isObject(body)) throw new UpstreamFormatError('failed to decode response from Gemini');
  const candidates = candidatesOf(body);
  const base = { id: idOf(body, ctx), created: createdOf(body, ctx), model: modelOf(body, ctx) };
  const usage = mapUsage(body.usageMetadata);
  const completions = ctx.routeType === 'llm/v1/completions';

  if (candidates.length === 0) {
    // A blocked prompt is an HTTP 200 with promptFeedback and no candidates: an empty, filtered answer.
    if (blockReasonOf(body) === undefined) throw new UpstreamFormatError('no generation candidates received from Gemini');
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
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new UpstreamFormatError('embedding values missing in Gemini response');
  return v;
}

/**
 * batchEmbedContents (`{"embeddings": [{"values": [...]}]}`, no token counts: usage reports 0, the
 * field being required by OpenAI's shape) or Vertex :predict (`predictions[].embeddings` with
 * `statistics.token_count`, summed into usage).
 */
export function parseEmbeddings(body: unknown, ctx: TargetContext): EmbeddingsList {
  if (!isObject(body)) throw new UpstreamFormatError('failed to decode embeddings response from Gemini');
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
  throw new UpstreamFormatError("'embeddings' not in Gemini embeddings response");
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
