// Ollama's NDJSON stream (/api/chat, /api/generate with "stream": true) into OpenAI chunks.
import type { FinishReason, Usage } from '../../openai/types';
import { providerError } from '../core/errors';
import { eventJson, isObject } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamChunk, type ChunkDelta } from '../openai-format/chunk';
import { chatId, completionId, createdOf, modelOf, ollamaFinish, ollamaUsage, toolCallsOf } from './response';

/**
 * An Ollama NDJSON stream (chat or generate) into OpenAI chunks. Each line is a whole object; tool calls
 * arrive whole (one delta each, arguments re-encoded as JSON strings); `done: true` ends the stream with
 * the finish reason and the usage. An `{"error": ...}` line (sent with status 200) is a provider error.
 */
export function ollamaStreamTranslator(ctx: TargetContext): StreamTranslator {
  const chat = ctx.routeType !== 'llm/v1/completions';
  let usage: Usage | undefined;
  let done = false;
  let first = true;
  let toolCallCount = 0;
  let id = '';
  let created = 0;
  let model = '';

  const shape = { completions: !chat };
  const chunk = (delta: ChunkDelta, finish: FinishReason | null): StreamChunk => streamChunk({ id, created, model }, shape, delta, finish);

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (done) return [];
      const v = eventJson(ev.data, ctx.provider);
      if (!isObject(v)) throw new UpstreamFormatError(`unexpected ${ctx.provider} stream line`);
      if (v.error !== undefined) {
        const message = typeof v.error === 'string' ? v.error : JSON.stringify(v.error);
        throw new ProviderStreamError(providerError(500, message, ctx));
      }
      if (first) {
        id = chat ? chatId(ctx) : completionId(ctx);
        created = createdOf(v.created_at, ctx);
        model = modelOf(v, ctx);
      }
      const out: StreamChunk[] = [];
      const role = (): { role?: 'assistant' } => (first ? { role: 'assistant' } : {});
      if (chat) {
        const message = isObject(v.message) ? v.message : {};
        const content = typeof message.content === 'string' ? message.content : '';
        const calls = toolCallsOf(message, ctx, toolCallCount);
        if (content !== '' || (first && calls.length === 0 && v.done !== true)) {
          out.push(chunk({ ...role(), content }, null));
          first = false;
        }
        if (calls.length > 0) {
          out.push(chunk({
            ...role(),
            tool_calls: calls.map((c, i) => ({ index: toolCallCount + i, id: c.id, type: 'function', function: c.function })),
          }, null));
          toolCallCount += calls.length;
          first = false;
        }
      } else {
        const text = typeof v.response === 'string' ? v.response : '';
        if (text !== '') out.push(chunk({ content: text }, null));
        first = false;
      }
      if (v.done === true) {
        done = true;
        usage = ollamaUsage(v);
        out.push(chunk(chat ? role() : {}, ollamaFinish(v, toolCallCount > 0)));
        first = false;
      }
      return out;
    },
    end() {
      if (!done) throw new UpstreamFormatError(`${ctx.provider} stream ended before its final "done": true object`);
      return usage ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}
