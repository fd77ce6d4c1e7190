// Stream framing, decoded once for every provider (docs/design.md §4): server-sent events, NDJSON and AWS
// binary event-stream, each correct whatever the chunk boundaries (a UTF-8 character, a line, a binary
// frame split anywhere) and in memory bounded by the largest single event.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { UpstreamFormatError, type StreamFraming, type UpstreamEvent } from './types';

export interface FrameDecoder {
  push(bytes: Uint8Array): UpstreamEvent[];
  /** The upstream ended; throws UpstreamFormatError if it stopped inside an event. */
  end(): UpstreamEvent[];
}

/** Largest single event accepted before the stream is declared broken (a guard, not a limit on streams). */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

function sseDecoder(): FrameDecoder {
  const text = new TextDecoder();
  let out: UpstreamEvent[] = [];
  let pending = 0;
  const parser = createParser({
    onEvent(m: EventSourceMessage) {
      out.push(m.event !== undefined ? { event: m.event, data: m.data } : { data: m.data });
      pending = 0;
    },
  });
  const feed = (s: string) => {
    pending += s.length;
    if (pending > MAX_EVENT_BYTES) throw new UpstreamFormatError('stream event too large');
    parser.feed(s);
    const r = out;
    out = [];
    return r;
  };
  return {
    push: (bytes) => feed(text.decode(bytes, { stream: true })),
    end() {
      // A last event without its blank line still counts (several providers close right after it).
      const events = feed(`${text.decode()}\n\n`);
      return events;
    },
  };
}

function ndjsonDecoder(): FrameDecoder {
  const text = new TextDecoder();
  let rest = '';
  const lines = (s: string, final: boolean): UpstreamEvent[] => {
    rest += s;
    const parts = rest.split(/\r?\n/);
    rest = final ? '' : parts.pop()!;
    if (rest.length > MAX_EVENT_BYTES) throw new UpstreamFormatError('stream line too large');
    return parts.filter((l) => l.trim() !== '').map((data) => ({ data }));
  };
  return {
    push: (bytes) => lines(text.decode(bytes, { stream: true }), false),
    end: () => lines(text.decode(), true),
  };
}

/**
 * UTF-8 for the codec's header names and values and for payloads: a TextDecoder costs a third of what
 * util-utf8's Buffer round trip does on these short strings, about a microsecond per frame (npm run
 * bench:providers).
 */
const utf8 = new TextDecoder();
const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes);

function awsEventStreamDecoder(): FrameDecoder {
  const codec = new EventStreamCodec(decodeUtf8, fromUtf8);
  let buf: Uint8Array = new Uint8Array(0);
  const take = (): UpstreamEvent[] => {
    const events: UpstreamEvent[] = [];
    while (buf.length >= 4) {
      const total = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (total < 16 || total > MAX_EVENT_BYTES) throw new UpstreamFormatError(`invalid event-stream frame length ${total}`);
      if (buf.length < total) break;
      let msg;
      try {
        msg = codec.decode(buf.subarray(0, total));
      } catch (e) {
        throw new UpstreamFormatError(`invalid event-stream frame: ${(e as Error).message}`);
      }
      buf = buf.subarray(total);
      const h = (name: string) => {
        const v = msg.headers[name];
        return v && v.type === 'string' ? v.value : undefined;
      };
      const exception = h(':message-type') === 'exception' || h(':message-type') === 'error';
      const event = exception ? (h(':exception-type') ?? h(':error-code') ?? 'exception') : h(':event-type');
      const data = decodeUtf8(msg.body);
      events.push(exception ? { event, data, exception: true } : event !== undefined ? { event, data } : { data });
    }
    return events;
  };
  return {
    push(bytes) {
      if (buf.length === 0) {
        buf = bytes;
      } else {
        const next = new Uint8Array(buf.length + bytes.length);
        next.set(buf);
        next.set(bytes, buf.length);
        buf = next;
      }
      return take();
    },
    end() {
      const events = take();
      if (buf.length > 0) throw new UpstreamFormatError('event stream ended inside a frame');
      return events;
    },
  };
}

export function createFrameDecoder(framing: StreamFraming): FrameDecoder {
  switch (framing) {
    case 'sse': return sseDecoder();
    case 'ndjson': return ndjsonDecoder();
    case 'aws-eventstream': return awsEventStreamDecoder();
  }
}

/** Encodes AWS event-stream messages (tests and fakes build Bedrock streams with it). */
export function encodeAwsEvent(eventType: string, payload: unknown, messageType: 'event' | 'exception' = 'event'): Uint8Array {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const typeHeader = messageType === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [typeHeader]: { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

