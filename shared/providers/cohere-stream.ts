// Cohere v2's chat stream (SSE: message-start, content-start/delta/end, tool-plan-delta,
// tool-call-start/delta/end, citation-*, debug, message-end, then `data: [DONE]`) → OpenAI chunks.
import type { ChatCompletionChunk, FinishReason, ToolCallDelta, Usage } from '../openai/types';
import { providerError } from './errors';
import { cohereUsage, generationFailure, isFailure, mapFinishReason } from './cohere-response';
import { eventJson, isObject } from './json';
import {
  ProviderStreamError, TranslationError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from './types';

/** `delta.message` of an event, or an empty object. */
function deltaMessage(v: Record<string, unknown>): Record<string, unknown> {
  const d = isObject(v.delta) ? v.delta : {};
  return isObject(d.message) ? d.message : {};
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** One OpenAI chunk of a Cohere stream (v1 or v2): a chat delta, or its text for completions. */
export function cohereChunk(ctx: TargetContext, id: string, created: number, delta: Delta, finish: FinishReason | null): StreamChunk {
  if (ctx.routeType === 'llm/v1/completions') {
    return { id, object: 'text_completion', created, model: ctx.model,
      choices: [{ index: 0, text: delta.content ?? '', finish_reason: finish, logprobs: null }] };
  }
  return { id, object: 'chat.completion.chunk', created, model: ctx.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
}

export function cohereStreamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  let id = `chatcmpl-${ctx.requestId}`;
  const created = ctx.now();
  let usage: Usage | undefined;
  /** Cohere's tool-call index → OpenAI's (the same today; kept apart so a gap cannot break clients). */
  const toolIndex = new Map<number, number>();
  let ended = false;

  const chunk = (delta: Delta, finish: FinishReason | null = null): StreamChunk => cohereChunk(ctx, id, created, delta, finish);
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
      if (!ended) throw new TranslationError('cohere stream ended before message-end');
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}
