// Mistral's OpenAI-style SSE stream (`openai` format) made exactly OpenAI's.
import { isObject, type Json } from '../core/json';
import { ProviderStreamError, type StreamTranslator, type TargetContext } from '../core/types';
import { openaiStreamTranslator } from '../openai-format/stream';
import { generationFailed, mistralFinish, parseMistralError, textContent } from './response';

/**
 * Mistral's OpenAI-style SSE stream (ends with [DONE]) with Mistral's differences made OpenAI's:
 * tool-call deltas without index/type, finish reasons, content chunks, usage inside the last content chunk.
 */
export function mistralStreamTranslator(ctx: TargetContext): StreamTranslator {
  const calls = new Map<number, number>();
  return openaiStreamTranslator(ctx, {
    inspect: (v) => {
      // An `{"error": ...}` event, or Mistral's own error shape (`{"object": "error", "message", ...}`,
      // no `error` key): read as Mistral's non-stream errors are.
      if (v.error !== undefined || v.object === 'error' || (v.message !== undefined && v.choices === undefined)) {
        const status = typeof v.raw_status_code === 'number' ? v.raw_status_code : 500;
        throw new ProviderStreamError(parseMistralError(status, v, ctx));
      }
    },
    edit: (c) => {
      if (ctx.includeUsage) c.usage = null;
      else delete c.usage;
      for (const choice of c.choices as Json[]) {
        if (choice.finish_reason === 'error') throw new ProviderStreamError(generationFailed(ctx));
        choice.finish_reason = mistralFinish(choice.finish_reason);
        const delta = isObject(choice.delta) ? choice.delta : undefined;
        if (!delta) continue;
        if (delta.content !== undefined) delta.content = textContent(delta.content);
        if (!Array.isArray(delta.tool_calls)) continue;
        const index = typeof choice.index === 'number' ? choice.index : 0;
        delta.tool_calls = delta.tool_calls.map((tc) => {
          const call: Json = isObject(tc) ? { ...tc } : {};
          const seen = calls.get(index) ?? 0;
          const fn = isObject(call.function) ? call.function : {};
          const starts = typeof call.id === 'string' || typeof fn.name === 'string';
          if (typeof call.index !== 'number') call.index = starts ? seen : Math.max(seen - 1, 0);
          calls.set(index, Math.max(seen, (call.index as number) + 1));
          if (starts) call.type = 'function';
          return call;
        });
      }
    },
  });
}
