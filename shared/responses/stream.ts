// A streamed chat completion as the Responses API's typed events. The chat chunks every provider
// translation produces go in; out come the events OpenAI's SDKs and the Vercel AI SDK read:
// response.created and response.in_progress first, then per output item output_item.added, its deltas
// (content_part.added / output_text.delta / ..., function_call_arguments.delta) and their .done events,
// and last response.completed (or response.incomplete) carrying the whole response with usage. A stream
// that breaks ends with an `error` event and response.failed. Every event is numbered in order.
import type { OpenAIErrorBody } from '../openai/errors';
import type { ChatCompletionChunk, FinishReason, Usage } from '../openai/types';
import type { ClientStreamEncoder } from '../providers/core/stream-pipeline';
import type { StreamChunk } from '../providers/core/types';
import { functionCallId, messageId, responsesUsage, responseShell, statusOf, type ResponseIds } from './from-chat';
import type { OutputFunctionCall, OutputItem, OutputMessage, ResponseObject, ResponsesEvent, ResponsesRequest } from './types';

interface OpenText { kind: 'text'; item: OutputMessage; outputIndex: number; text: string }
interface OpenCall { kind: 'call'; item: OutputFunctionCall; outputIndex: number }

export class ResponsesStream {
  private seq = 0;
  private readonly output: OutputItem[] = [];
  private text: OpenText | undefined;
  /** Function calls by the chat chunk's tool call index. */
  private readonly calls = new Map<number, OpenCall>();
  private finish: FinishReason | null = null;
  private usage: Usage | undefined;
  private model: string;
  private ended = false;

  constructor(private readonly req: ResponsesRequest, private readonly ids: ResponseIds, model: string) {
    this.model = model;
  }

  private event(type: string, fields: Record<string, unknown>): ResponsesEvent {
    return { type, sequence_number: this.seq++, ...fields };
  }

  private snapshot(over: Partial<ResponseObject> = {}): ResponseObject {
    return { ...responseShell(this.req, this.ids, this.model), output: structuredClone(this.output), ...over };
  }

  /** The opening events, before any chunk. */
  start(): ResponsesEvent[] {
    const response = this.snapshot();
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  private openText(out: ResponsesEvent[]): OpenText {
    if (this.text) return this.text;
    const item: OutputMessage = { type: 'message', id: messageId(this.ids), status: 'in_progress', role: 'assistant', content: [] };
    const outputIndex = this.output.push(item) - 1;
    this.text = { kind: 'text', item, outputIndex, text: '' };
    out.push(this.event('response.output_item.added', { output_index: outputIndex, item: structuredClone(item) }));
    out.push(this.event('response.content_part.added', {
      item_id: item.id, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [] },
    }));
    return this.text;
  }

  private closeText(out: ResponsesEvent[]): void {
    const t = this.text;
    if (!t) return;
    this.text = undefined;
    const part = { type: 'output_text' as const, text: t.text, annotations: [] };
    t.item.content = [part];
    t.item.status = 'completed';
    out.push(this.event('response.output_text.done', { item_id: t.item.id, output_index: t.outputIndex, content_index: 0, text: t.text, logprobs: [] }));
    out.push(this.event('response.content_part.done', { item_id: t.item.id, output_index: t.outputIndex, content_index: 0, part }));
    out.push(this.event('response.output_item.done', { output_index: t.outputIndex, item: structuredClone(t.item) }));
  }

  private closeCall(c: OpenCall, out: ResponsesEvent[]): void {
    c.item.status = 'completed';
    out.push(this.event('response.function_call_arguments.done', {
      item_id: c.item.id, output_index: c.outputIndex, name: c.item.name, arguments: c.item.arguments,
    }));
    out.push(this.event('response.output_item.done', { output_index: c.outputIndex, item: structuredClone(c.item) }));
  }

  /** The events one chat chunk makes. */
  chunk(c: ChatCompletionChunk): ResponsesEvent[] {
    const out: ResponsesEvent[] = [];
    if (c.model) this.model = c.model;
    if (c.usage) this.usage = c.usage;
    const choice = c.choices[0];
    if (!choice) return out;
    const content = choice.delta.content;
    if (typeof content === 'string' && content !== '') {
      const t = this.openText(out);
      t.text += content;
      out.push(this.event('response.output_text.delta', {
        item_id: t.item.id, output_index: t.outputIndex, content_index: 0, delta: content, logprobs: [],
      }));
    }
    for (const d of choice.delta.tool_calls ?? []) {
      let call = this.calls.get(d.index);
      if (!call) {
        // A tool call starts: the text before it is complete (the Responses API orders items).
        this.closeText(out);
        const item: OutputFunctionCall = {
          type: 'function_call', id: functionCallId(this.ids, this.calls.size), call_id: d.id ?? `call_${this.ids.base}_${this.calls.size}`,
          name: d.function?.name ?? '', arguments: '', status: 'in_progress',
        };
        call = { kind: 'call', item, outputIndex: this.output.push(item) - 1 };
        this.calls.set(d.index, call);
        out.push(this.event('response.output_item.added', { output_index: call.outputIndex, item: structuredClone(item) }));
      } else if (d.function?.name) {
        call.item.name += d.function.name;
      }
      const args = d.function?.arguments;
      if (typeof args === 'string' && args !== '') {
        call.item.arguments += args;
        out.push(this.event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.outputIndex, delta: args }));
      }
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  /** The closing events: open items done, then the whole response with its usage (`usage` if given). */
  end(usage?: Usage): ResponsesEvent[] {
    if (this.ended) return [];
    this.ended = true;
    if (usage) this.usage = usage;
    const out: ResponsesEvent[] = [];
    this.closeText(out);
    for (const c of this.calls.values()) if (c.item.status === 'in_progress') this.closeCall(c, out);
    const { status, incomplete_details } = statusOf(this.finish);
    const response = this.snapshot({ status, incomplete_details, usage: this.usage ? responsesUsage(this.usage) : null });
    out.push(this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }));
    return out;
  }

  /** The events of a stream that broke: OpenAI's `error` event, then the response failed. */
  fail(message: string, code: string): ResponsesEvent[] {
    if (this.ended) return [];
    this.ended = true;
    const error = this.event('error', { code, message, param: null });
    const response = this.snapshot({ status: 'failed', error: { code, message }, usage: this.usage ? responsesUsage(this.usage) : null });
    return [error, this.event('response.failed', { response })];
  }
}

/** One event as the Responses API sends it: named, its JSON as the data; no [DONE] follows. */
export function responsesSse(e: ResponsesEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** The Responses API's events as the stream pipeline's client encoder: created first, completed last. */
export class ResponsesSseEncoder implements ClientStreamEncoder {
  private started = false;

  constructor(private readonly stream: ResponsesStream) {}

  private opening(): string {
    if (this.started) return '';
    this.started = true;
    return this.stream.start().map(responsesSse).join('');
  }

  chunk(c: StreamChunk): string {
    // Responses are chat underneath (the route translates to chat): no completions chunk comes.
    if (c.object !== 'chat.completion.chunk') return this.opening();
    return this.opening() + this.stream.chunk(c).map(responsesSse).join('');
  }

  end(usage: Usage | undefined): { text: string; chunks: number } {
    return { text: this.opening() + this.stream.end(usage).map(responsesSse).join(''), chunks: 0 };
  }

  fail(error: OpenAIErrorBody): string {
    return this.opening() + this.stream.fail(error.error.message, error.error.code ?? error.error.type).map(responsesSse).join('');
  }
}
