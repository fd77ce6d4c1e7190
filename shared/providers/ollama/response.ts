// Ollama's native answers (/api/chat, /api/generate, /api/embed) into OpenAI's shapes, and the readers
// its NDJSON stream (stream.ts) shares with them.
import type { ChatCompletion, EmbeddingsList, FinishReason, OpenAIResponseBody, TextCompletion, ToolCall, Usage } from '../../openai/types';
import { isObject, num, type Json } from '../core/json';
import { UpstreamFormatError, type TargetContext } from '../core/types';

/** `created_at` (RFC 3339, nanoseconds) in epoch seconds, else now. */
export function createdOf(v: unknown, ctx: TargetContext): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : ctx.now();
}

export function modelOf(v: Json, ctx: TargetContext): string {
  return typeof v.model === 'string' && v.model !== '' ? v.model : ctx.model;
}

/** Usage from the final object; a missing prompt_eval_count means the prompt came from the cache (0). */
export function ollamaUsage(v: Json): Usage | undefined {
  const prompt = num(v.prompt_eval_count);
  const completion = num(v.eval_count);
  if (prompt === undefined && completion === undefined) return undefined;
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: (prompt ?? 0) + (completion ?? 0) };
}

/** `done_reason` into OpenAI's; Ollama says `stop` even when the model called tools. */
export function ollamaFinish(v: Json, sawToolCalls: boolean): FinishReason {
  if (v.done_reason === 'length') return 'length';
  return sawToolCalls ? 'tool_calls' : 'stop';
}

/** Ollama tool calls (arguments as objects, ids only from newer builds) into OpenAI's. */
export function toolCallsOf(message: Json, ctx: TargetContext, offset: number): ToolCall[] {
  if (!Array.isArray(message.tool_calls)) return [];
  const out: ToolCall[] = [];
  for (const tc of message.tool_calls) {
    if (!isObject(tc) || !isObject(tc.function) || typeof tc.function.name !== 'string') {
      throw new UpstreamFormatError(`invalid tool call in ${ctx.provider} response`);
    }
    const args = tc.function.arguments;
    out.push({
      id: typeof tc.id === 'string' && tc.id !== '' ? tc.id : `call_${ctx.requestId}_${offset + out.length}`,
      type: 'function',
      function: { name: tc.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
    });
  }
  return out;
}

export function chatId(ctx: TargetContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

export function completionId(ctx: TargetContext): string {
  return `cmpl-${ctx.requestId}`;
}

export function parseOllamaResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  if (!isObject(body)) throw new UpstreamFormatError(`failed to decode ${ctx.routeType} response from ${ctx.provider}`);
  if (ctx.routeType === 'llm/v1/embeddings') {
    // /api/embed gives `embeddings`; the older /api/embeddings gives one `embedding`.
    const vectors = Array.isArray(body.embeddings) ? body.embeddings : Array.isArray(body.embedding) ? [body.embedding] : null;
    if (!vectors) throw new UpstreamFormatError(`'embeddings' not in ${ctx.provider} response`);
    const prompt = num(body.prompt_eval_count) ?? 0;
    const list: EmbeddingsList = {
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: embedding as number[] })),
      model: modelOf(body, ctx),
      usage: { prompt_tokens: prompt, total_tokens: prompt },
    };
    return list;
  }
  const usage = ollamaUsage(body);
  if (ctx.routeType === 'llm/v1/completions') {
    if (typeof body.response !== 'string') throw new UpstreamFormatError(`'response' not in ${ctx.provider} response`);
    const out: TextCompletion = {
      id: completionId(ctx),
      object: 'text_completion',
      created: createdOf(body.created_at, ctx),
      model: modelOf(body, ctx),
      choices: [{ index: 0, text: body.response, finish_reason: ollamaFinish(body, false), logprobs: null }],
    };
    if (usage) out.usage = usage;
    return out;
  }
  const message = body.message;
  if (!isObject(message)) throw new UpstreamFormatError(`'message' not in ${ctx.provider} response`);
  const toolCalls = toolCallsOf(message, ctx, 0);
  const out: ChatCompletion = {
    id: chatId(ctx),
    object: 'chat.completion',
    created: createdOf(body.created_at, ctx),
    model: modelOf(body, ctx),
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: typeof message.content === 'string' && (message.content !== '' || toolCalls.length === 0) ? message.content : null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: ollamaFinish(body, toolCalls.length > 0),
    }],
  };
  if (usage) out.usage = usage;
  return out;
}
