// Cohere v2's chat stream (SSE: message-start, content-start/delta/end, tool-plan-delta,
// tool-call-start/delta/end, citation-*, debug, message-end, then `data: [DONE]`) → OpenAI chunks.
import type { FinishReason, ToolCallDelta, Usage } from '../../openai/types';
import { providerError } from '../core/errors';
import { eventJson, isObject } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamChunk, type ChunkDelta, type ChunkShape } from '../openai-format/chunk';
import { cohereUsage, generationFailure, isFailure, mapFinishReason } from './response';

/** `delta.message` of an event, or an empty object. */
function deltaMessage(v: Record<string, unknown>): Record<string, unknown> {
  const d = isObject(v.delta) ? v.delta : {};
  return isObject(d.message) ? d.message : {};
}

/** The shape of a Cohere stream's chunks (v1 or v2): a chat delta, or its text for completions. */
export function cohereChunkShape(ctx: TargetContext): ChunkShape {
  return { completions: ctx.routeType === 'llm/v1/completions', logprobs: true };
}

export function cohereStreamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  let id = `chatcmpl-${ctx.requestId}`;
  const created = ctx.now();
  let usage: Usage | undefined;
  /** Cohere's tool-call index → OpenAI's (the same today; kept apart so a gap cannot break clients). */
  const toolIndex = new Map<number, number>();
  let ended = false;

  const shape = cohereChunkShape(ctx);
  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): StreamChunk =>
    streamChunk({ id, created, model: ctx.model }, shape, delta, finish);
  const text = (t: unknown): StreamChunk[] => (typeof t === 'string' && t !== '' ? [chunk({ content: t })] : []);
  const tool = (d: ToolCallDelta): StreamChunk[] => (completions ? [] : [chunk({ tool_calls: [d] })]);

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.data === '[DONE]') {
        ended = true;
        return [];
      }
      const v = eventJson(ev.data, 'cohere');
      if (!isObject(v)) return [];
      const type = typeof v.type === 'string' ? v.type : ev.event;
      switch (type) {
        case 'message-start':
          if (typeof v.id === 'string') id = v.id;
          return completions ? [] : [chunk({ role: 'assistant', content: '' })];
        case 'content-start':
        case 'content-delta': {
          const c = deltaMessage(v).content;
          return isObject(c) ? text(c.text) : []; // `thinking` content has no OpenAI equivalent
        }
        case 'tool-plan-delta':
          return text(deltaMessage(v).tool_plan);
        case 'tool-call-start': {
          const tc = deltaMessage(v).tool_calls;
          if (!isObject(tc)) return [];
          const fn = isObject(tc.function) ? tc.function : {};
          const i = toolIndex.size;
          toolIndex.set(Number(v.index), i);
          return tool({ index: i, id: String(tc.id), type: 'function',
            function: { name: String(fn.name), arguments: typeof fn.arguments === 'string' ? fn.arguments : '' } });
        }
        case 'tool-call-delta': {
          const tc = deltaMessage(v).tool_calls;
          const args = isObject(tc) && isObject(tc.function) ? tc.function.arguments : undefined;
          const i = toolIndex.get(Number(v.index));
          if (i === undefined || typeof args !== 'string' || args === '') return [];
          return tool({ index: i, function: { arguments: args } });
        }
        case 'message-end': {
          const d = isObject(v.delta) ? v.delta : {};
          usage = cohereUsage(d.usage) ?? usage;
          if (isFailure(d.finish_reason)) throw new ProviderStreamError(generationFailure(d.finish_reason, d.error, ctx));
          ended = true;
          return [chunk({}, mapFinishReason(d.finish_reason) ?? 'stop')];
        }
        default:
          // An error object without an event type (the API's error body sent as an event).
          if (type === undefined && typeof v.message === 'string') {
            throw new ProviderStreamError(providerError(500, v.message, ctx));
          }
          return []; // content-end, tool-call-end, citation-start/-end, debug
      }
    },
    end() {
      if (!ended) throw new UpstreamFormatError('cohere stream ended before message-end');
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}
