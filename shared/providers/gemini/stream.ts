// Gemini's stream (streamGenerateContent?alt=sse) into OpenAI chunks.
import type { FinishReason, ToolCallDelta, Usage } from '../../openai/types';
import { eventJson, isObject, num, type Json } from '../core/json';
import {
  ProviderStreamError, UpstreamFormatError, type StreamChunk, type StreamTranslator, type TargetContext, type UpstreamEvent,
} from '../core/types';
import { streamChunk, type ChunkDelta } from '../openai-format/chunk';
import {
  blockReasonOf, candidatesOf, createdOf, idOf, mapFinishReason, mapUsage, modelOf, parseGeminiError, readParts, toolCall, toolCallId,
} from './response';

interface ChoiceState {
  started: boolean;
  finished: boolean;
  toolCalls: number;
}

/**
 * `streamGenerateContent?alt=sse`: every event is a whole GenerateContentResponse fragment; text arrives
 * in pieces, a function call whole, usageMetadata repeated and cumulative (so it is replaced, never
 * added), finishReason on a candidate's last event, and the stream ends by closing (no sentinel).
 */
export function geminiStreamTranslator(ctx: TargetContext): StreamTranslator {
  const completions = ctx.routeType === 'llm/v1/completions';
  const choices = new Map<number, ChoiceState>();
  let ident: { id: string; created: number; model: string } | undefined;
  let usage: Usage | undefined;
  let blocked = false;

  const shape = { completions };
  const chatChunk = (index: number, delta: ChunkDelta, finish: FinishReason | null): StreamChunk =>
    streamChunk(ident!, shape, delta, finish, index);
  const textChunk = (index: number, text: string, finish: FinishReason | null): StreamChunk =>
    streamChunk(ident!, shape, { content: text }, finish, index);

  const state = (index: number): ChoiceState => {
    let s = choices.get(index);
    if (s === undefined) {
      s = { started: false, finished: false, toolCalls: 0 };
      choices.set(index, s);
    }
    return s;
  };

  const candidateChunks = (c: Json, position: number): StreamChunk[] => {
    const index = num(c.index) ?? position;
    const s = state(index);
    const { text, calls } = readParts(c);
    const out: StreamChunk[] = [];
    if (completions) {
      if (text !== '') out.push(textChunk(index, text, null));
    } else {
      const delta: ChunkDelta = {};
      if (!s.started) delta.role = 'assistant';
      if (text !== '') delta.content = text;
      if (calls.length > 0) {
        delta.tool_calls = calls.map((call): ToolCallDelta => {
          const k = s.toolCalls++;
          const full = toolCall(call, toolCallId(ctx, index, k));
          return { index: k, ...full };
        });
      }
      if (delta.content !== undefined || delta.tool_calls !== undefined) {
        if (!s.started && delta.content === undefined) delta.content = null;
        out.push(chatChunk(index, delta, null));
        s.started = true;
      }
    }
    if (typeof c.finishReason === 'string' && !s.finished) {
      s.finished = true;
      const finish = mapFinishReason(c.finishReason, s.toolCalls > 0 || calls.length > 0);
      if (completions) out.push(textChunk(index, '', finish));
      else out.push(chatChunk(index, s.started ? {} : { role: 'assistant', content: null }, finish));
      s.started = true;
    }
    return out;
  };

  return {
    push(ev: UpstreamEvent): StreamChunk[] {
      if (ev.data.trim() === '') return [];
      let v = eventJson(ev.data, 'gemini');
      if (Array.isArray(v) && v.length === 1) v = v[0];
      if (!isObject(v)) throw new UpstreamFormatError('unexpected stream event from Gemini');
      if (v.error !== undefined) {
        const e = isObject(v.error) ? v.error : {};
        throw new ProviderStreamError(parseGeminiError(num(e.code) ?? 500, v, ctx));
      }
      ident ??= { id: idOf(v, ctx), created: createdOf(v, ctx), model: modelOf(v, ctx) };
      const u = mapUsage(v.usageMetadata);
      if (u !== undefined) usage = u;
      const candidates = candidatesOf(v);
      if (candidates.length === 0) {
        if (blockReasonOf(v) === undefined || blocked) return [];
        blocked = true;
        state(0).finished = true;
        return completions ? [textChunk(0, '', 'content_filter')]
          : [chatChunk(0, { role: 'assistant', content: null }, 'content_filter')];
      }
      return candidates.flatMap((c, i) => candidateChunks(c, i));
    },
    end() {
      if (choices.size === 0) throw new UpstreamFormatError('Gemini stream ended before any candidate');
      for (const [index, s] of choices) {
        if (!s.finished) throw new UpstreamFormatError(`Gemini stream ended before candidate ${index} finished`);
      }
      return usage !== undefined ? { chunks: [], usage } : { chunks: [] };
    },
    usage: () => usage,
  };
}
