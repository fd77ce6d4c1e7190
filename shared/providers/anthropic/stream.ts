// Anthropic's Messages stream (SSE: message_start, content_block_start/delta/stop, message_delta,
// message_stop, ping, error) → OpenAI chunks, one event at a time, in constant memory.
import type { FinishReason, ToolCallDelta, Usage } from '../../openai/types';
import { providerError } from '../core/errors';
import { eventJson, isObject } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamChunk, type ChunkDelta } from '../openai-format/chunk';
import { RESPONSE_FORMAT_TOOL } from './request';
import { mapStopReason, mergeCounts, statusForErrorType, toUsage, type AnthropicCounts } from './response';

export function anthropicStreamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  let id = `chatcmpl-${ctx.requestId}`;
  let model = ctx.model;
  const created = ctx.now();
  const counts: AnthropicCounts = {};
  /** Content block index → OpenAI tool call index (text blocks take block indexes, not tool indexes). */
  const toolIndex = new Map<number, number>();
  /** Block indexes of the gateway's JSON-output tool: their input is streamed as message text. */
  const jsonBlocks = new Set<number>();
  let done = false;

  const shape = { completions, logprobs: true };
  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): StreamChunk =>
    streamChunk({ id, created, model }, shape, delta, finish);
  const text = (t: unknown): StreamChunk[] => (typeof t === 'string' && t !== '' ? [chunk({ content: t })] : []);
  const tool = (d: ToolCallDelta): StreamChunk[] => (completions ? [] : [chunk({ tool_calls: [d] })]);

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      const v = eventJson(ev.data, 'anthropic');
      if (!isObject(v)) return [];
      const type = typeof v.type === 'string' ? v.type : ev.event;
      switch (type) {
        case 'message_start': {
          const m = isObject(v.message) ? v.message : {};
          if (typeof m.id === 'string') id = m.id;
          if (typeof m.model === 'string') model = m.model;
          mergeCounts(counts, m.usage);
          return completions ? [] : [chunk({ role: 'assistant', content: '' })];
        }
        case 'content_block_start': {
          const index = Number(v.index);
          const block = isObject(v.content_block) ? v.content_block : {};
          if (block.type === 'text') return text(block.text);
          if (block.type !== 'tool_use') return []; // thinking, server tools: no OpenAI equivalent
          if (block.name === RESPONSE_FORMAT_TOOL) {
            jsonBlocks.add(index);
            return [];
          }
          const i = toolIndex.size;
          toolIndex.set(index, i);
          // The block's `input` is always {} here: the arguments come as input_json_delta fragments.
          return tool({ index: i, id: String(block.id), type: 'function', function: { name: String(block.name), arguments: '' } });
        }
        case 'content_block_delta': {
          const index = Number(v.index);
          const d = isObject(v.delta) ? v.delta : {};
          if (d.type === 'text_delta') return text(d.text);
          if (d.type !== 'input_json_delta') return []; // thinking, signature, citations
          if (jsonBlocks.has(index)) return text(d.partial_json);
          const i = toolIndex.get(index);
          if (i === undefined || typeof d.partial_json !== 'string' || d.partial_json === '') return [];
          return tool({ index: i, function: { arguments: d.partial_json } });
        }
        case 'message_delta': {
          mergeCounts(counts, v.usage);
          const d = isObject(v.delta) ? v.delta : {};
          const finish = mapStopReason(d.stop_reason, toolIndex.size > 0);
          return finish === null ? [] : [chunk({}, finish)];
        }
        case 'message_stop':
          done = true;
          return [];
        case 'error': {
          const e = isObject(v.error) ? v.error : {};
          const message = typeof e.message === 'string' ? e.message : 'anthropic stream error';
          throw new ProviderStreamError(providerError(statusForErrorType(e.type), message, ctx,
            typeof e.type === 'string' ? e.type : null));
        }
        default: // ping, content_block_stop, and event types added later
          return [];
      }
    },
    end() {
      if (!done) throw new UpstreamFormatError('anthropic stream ended before message_stop');
      return { chunks: [], usage: toUsage(counts) };
    },
    usage: (): Usage | undefined => toUsage(counts),
  };
}
