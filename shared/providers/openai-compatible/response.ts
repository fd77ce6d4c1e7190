// OpenAI-compatible servers (TGI's Messages API, vLLM, llama.cpp, the HF router), read leniently: their
// non-streamed answers made exactly OpenAI's. Used by huggingface (chat) and llama2 (openai format).
import type { ChatCompletion, FinishReason, OpenAIResponseBody, TextCompletion, ToolCall } from '../../openai/types';
import { isObject, num, type Json } from '../core/json';
import type { TargetContext } from '../core/types';
import { parseOpenAIResponse, readOpenAIBody } from '../openai-format/response';


/**
 * Finish reasons of OpenAI-compatible servers: OpenAI's own, TGI's eos_token / stop_sequence, the legacy
 * function_call. Anything else unknown counts as `stop`.
 */
export function compatFinish(v: unknown): FinishReason | null {
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
  if (ctx.routeType === 'llm/v1/embeddings') return parseOpenAIResponse(body, ctx);
  const out = readOpenAIBody(body, ctx);
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
  // Every field a client reads has just been made OpenAI's; the others pass through as sent.
  return out as unknown as ChatCompletion | TextCompletion;
}
