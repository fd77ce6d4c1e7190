// Usage of a Responses API stream that passes through untouched (openai, azure): the bytes are read on
// their way to the client, and the usage is taken from the event that closes the response
// (response.completed, .incomplete or .failed carry the whole response). Only those events are parsed;
// memory is bounded by one event, as the SSE parser holds at most the event being read.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Usage } from '../openai/types';
import { openaiUsage } from '../providers/core/native-usage';
import { isObject, parseJson } from '../providers/core/json';

const CLOSING = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export class ResponsesUsageTap {
  private readonly decoder = new TextDecoder();
  private readonly parser = createParser({ onEvent: (e) => this.see(e) });
  usage: Usage | undefined;
  model: string | undefined;

  push(bytes: Uint8Array): void {
    this.parser.feed(this.decoder.decode(bytes, { stream: true }));
  }

  private see(e: EventSourceMessage): void {
    if (e.event === undefined || !CLOSING.has(e.event)) return;
    const v = parseJson(e.data);
    const response = isObject(v) ? v.response : undefined;
    this.usage = openaiUsage(response) ?? this.usage;
    if (isObject(response) && typeof response.model === 'string') this.model = response.model;
  }
}
