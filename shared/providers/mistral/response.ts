// Mistral's answers and errors (`openai` format) made OpenAI's: finish reasons, content given as chunks,
// tool calls without `type`, and Mistral's own error shapes.
import type { OpenAIResponseBody } from '../../openai/types';
import { fallbackMessage, parseOpenAIStyleError, providerError } from '../core/errors';
import { isObject, type Json } from '../core/json';
import { UpstreamFormatError, type ProviderError, type TargetContext } from '../core/types';
import { parseOpenAIResponse, readOpenAIBody } from '../openai-format/response';

/** Message content given as a list of chunks (text, thinking, ...) reduced to its text. */
export function textContent(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((part) => (isObject(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

export function mistralFinish(v: unknown): unknown {
  return v === 'model_length' ? 'length' : v;
}

export function generationFailed(ctx: TargetContext): ProviderError {
  return providerError(500, 'Mistral stopped the generation with an error (finish_reason "error")', ctx, 'generation_error');
}

export function parseMistralResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  if (ctx.routeType !== 'llm/v1/chat') return parseOpenAIResponse(body, ctx);
  const out = readOpenAIBody(body, ctx);
  out.choices = (out.choices as unknown[]).map((c) => {
    const choice: Json = isObject(c) ? { ...c } : {};
    if (choice.finish_reason === 'error') throw new UpstreamFormatError(generationFailed(ctx).body.error.message);
    choice.finish_reason = mistralFinish(choice.finish_reason);
    if (isObject(choice.message)) {
      const message: Json = { ...choice.message, content: textContent(choice.message.content) };
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls = message.tool_calls.map((tc) => {
          const { index: _index, ...rest } = isObject(tc) ? tc : {};
          return { ...rest, type: 'function' };
        });
      }
      choice.message = message;
    }
    return choice;
  });
  // The choices have just been made OpenAI's; the other fields pass through as Mistral sent them.
  return out as unknown as OpenAIResponseBody;
}

/**
 * Mistral errors: `{"object": "error", "message": "...", "type", "param", "code"}`, where `message` may be
 * a validation object (`{"detail": [{"type": "extra_forbidden", "loc": [...], "msg": ...}]}`); gateway
 * errors (401, 429) are `{"message": "..."}`.
 */
export function parseMistralError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  if (!isObject(body) || body.error !== undefined) return parseOpenAIStyleError(status, body, ctx);
  const m = body.message;
  const code = typeof body.code === 'string' ? body.code : typeof body.code === 'number' ? String(body.code) : null;
  const param = typeof body.param === 'string' ? body.param : null;
  if (typeof m === 'string') return providerError(status, m, ctx, code, param);
  if (isObject(m) && Array.isArray(m.detail)) {
    const parts = m.detail.map((d) => {
      if (!isObject(d)) return JSON.stringify(d);
      const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '';
      return `${loc ? `${loc}: ` : ''}${typeof d.msg === 'string' ? d.msg : JSON.stringify(d)}`;
    });
    const first = m.detail.find(isObject);
    return providerError(status, parts.join('; '), ctx, code ?? (typeof first?.type === 'string' ? first.type : null), param);
  }
  if (isObject(m)) return providerError(status, JSON.stringify(m), ctx, code, param);
  return providerError(status, fallbackMessage(status, body), ctx, code, param);
}

