// The SSE streams of OpenAI-compatible servers (TGI's Messages API, vLLM, llama.cpp, the HF router), read
// leniently and made exactly OpenAI's. Used by huggingface (chat) and llama2 (openai format).
import type { ToolCallDelta, Usage } from '../../openai/types';
import { parseOpenAIStyleError, providerError } from '../core/errors';
import { eventJson, isObject, num, type Json } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamUsage } from '../openai-format/stream';
import { tgiErrorStatus } from '../tgi/errors';
import { compatFinish } from './response';

/**
 * The SSE stream of an OpenAI-compatible server, made exactly OpenAI's. `[DONE]` ends it (TGI sends it
 * since 2.2; an older TGI's stream, closed without it, counts as cut); TGI's ids are empty and its finish
 * reasons its own; TGI 2.x sent `delta.tool_calls` as one object, not a list, with object arguments;
 * servers differ on `usage` placement (captured wherever it comes; the pipeline emits the usage
 * chunk). TGI errors inside the stream (`{"error", "error_type"}`) keep their status.
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
      const u = streamUsage(v.usage);
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
      // id, object, choices and usage have just been made OpenAI's; the other fields pass through as sent.
      return [chunk as unknown as StreamChunk];
    },
    end() {
      if (!done) throw new UpstreamFormatError(`${ctx.provider} stream ended before [DONE]`);
      return usage ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}
