// Bedrock's ConverseStream (AWS event-stream: messageStart, contentBlockStart/Delta/Stop, messageStop,
// metadata, or an exception) → OpenAI chunks.
import type { FinishReason, Usage } from '../../openai/types';
import { eventJson, isObject, num, type Json } from '../core/json';
import { UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent } from '../core/types';
import { streamChunk } from '../openai-format/chunk';
import { streamError } from './errors';
import { finishReason, mapUsage } from './response';

export function bedrockStreamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  const id = completions ? `cmpl-${ctx.requestId}` : `chatcmpl-${ctx.requestId}`;
  const created = ctx.now();
  const model = ctx.model;
  /** contentBlockIndex → OpenAI tool_calls index (which counts tool calls only). */
  const toolIndex = new Map<number, number>();
  let stopped = false;
  let finished = false;
  let usage: Usage | undefined;

  const shape = { completions };
  const chat = (delta: Json, finish: FinishReason | null = null): StreamChunk =>
    streamChunk({ id, created, model }, shape, delta, finish);
  const text = (t: string, finish: FinishReason | null = null): StreamChunk => chat({ content: t }, finish);

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.exception) throw streamError(ev, ctx);
      const p = eventJson(ev.data, 'bedrock');
      if (!isObject(p)) throw new UpstreamFormatError(`invalid bedrock stream event '${ev.event ?? ''}'`);
      switch (ev.event) {
        case 'messageStart':
          return completions ? [] : [chat({ role: 'assistant', content: '' })];
        case 'contentBlockStart': {
          const start = isObject(p.start) ? p.start.toolUse : undefined;
          if (!isObject(start) || completions) return [];
          const block = num(p.contentBlockIndex) ?? 0;
          const index = toolIndex.size;
          toolIndex.set(block, index);
          return [chat({ tool_calls: [{ index, id: start.toolUseId, type: 'function', function: { name: start.name, arguments: '' } }] })];
        }
        case 'contentBlockDelta': {
          const d = isObject(p.delta) ? p.delta : {};
          if (typeof d.text === 'string') {
            if (d.text === '') return [];
            return [completions ? text(d.text) : chat({ content: d.text })];
          }
          if (isObject(d.toolUse)) {
            if (completions) return [];
            const index = toolIndex.get(num(p.contentBlockIndex) ?? 0);
            if (index === undefined) throw new UpstreamFormatError('bedrock stream: toolUse delta without its contentBlockStart');
            const fragment = typeof d.toolUse.input === 'string' ? d.toolUse.input : '';
            return fragment === '' ? [] : [chat({ tool_calls: [{ index, function: { arguments: fragment } }] })];
          }
          // reasoningContent (text / signature), citations and images have no OpenAI chunk field.
          return [];
        }
        case 'messageStop': {
          stopped = true;
          const finish = finishReason(p.stopReason);
          return [completions ? text('', finish) : chat({}, finish)];
        }
        case 'metadata':
          usage = mapUsage(p.usage) ?? usage;
          finished = true;
          return [];
        default: // contentBlockStop, and events added later
          return [];
      }
    },
    end() {
      // ConverseStream always ends with messageStop then metadata (which carries the usage).
      if (!stopped) throw new UpstreamFormatError('bedrock stream ended before messageStop');
      if (!finished) throw new UpstreamFormatError('bedrock stream ended before its metadata event');
      return { chunks: [], usage };
    },
    usage: () => usage,
  };
}

