// A fake provider speaking the native APIs a native llm_format route passes through (docs/provider-formats.md
// §3, §4, §6): Gemini's generateContent and streamGenerateContent (alt=sse, CRLF-ended events), Bedrock's
// Converse and ConverseStream (AWS event-stream frames), Anthropic's Messages API, plain and streamed.
// Each answer uses its own token counts, so a test can tell which request a log line is about. Records
// every request, and keeps the exact bytes of each answer it sent (for byte-equal assertions).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { encodeAwsEvent } from '../../shared/providers/core/framing';
import { jsonObjectOrEmpty, wholeBody } from './request-body';

export interface NativeReceived {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

/** The counts each answer reports: [prompt, completion]. */
export const COUNTS = {
  geminiPlain: [11, 7], geminiStream: [13, 9],
  bedrockPlain: [21, 5], bedrockStream: [23, 6],
  anthropicPlain: [31, 8], anthropicStream: [33, 12],
} as const;

export const geminiAnswer = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'Hello from Gemini.' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 7, totalTokenCount: 18 },
  modelVersion: 'gemini-2.0-flash-001',
  responseId: 'resp-gemini-1',
};

export const geminiChunks = [
  { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], usageMetadata: { promptTokenCount: 13, totalTokenCount: 13 }, modelVersion: 'gemini-2.0-flash-001', responseId: 'resp-gemini-2' },
  { candidates: [{ content: { role: 'model', parts: [{ text: 'lo, streamed.' }] }, index: 0 }], usageMetadata: { promptTokenCount: 13, candidatesTokenCount: 4, totalTokenCount: 17 }, modelVersion: 'gemini-2.0-flash-001', responseId: 'resp-gemini-2' },
  { candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 13, candidatesTokenCount: 9, totalTokenCount: 22 }, modelVersion: 'gemini-2.0-flash-001', responseId: 'resp-gemini-2' },
];

export const bedrockAnswer = {
  output: { message: { role: 'assistant', content: [{ text: 'Hello from Bedrock.' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 21, outputTokens: 5, totalTokens: 26 },
  metrics: { latencyMs: 120 },
};

export const bedrockEvents: Array<[string, Record<string, unknown>]> = [
  ['messageStart', { role: 'assistant' }],
  ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello, ' } }],
  ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'streamed.' } }],
  ['contentBlockStop', { contentBlockIndex: 0 }],
  ['messageStop', { stopReason: 'end_turn' }],
  ['metadata', { usage: { inputTokens: 23, outputTokens: 6, totalTokens: 29 }, metrics: { latencyMs: 80 } }],
];

export const anthropicAnswer = {
  id: 'msg_01native', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-20241022',
  content: [{ type: 'text', text: 'Hello from Claude.' }],
  stop_reason: 'end_turn', stop_sequence: null,
  usage: { input_tokens: 31, output_tokens: 8 },
};

export const anthropicEvents: Array<Record<string, unknown>> = [
  { type: 'message_start', message: { id: 'msg_01stream', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-20241022', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 33, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'ping' },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello, ' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'streamed.' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } },
  { type: 'message_stop' },
];

/** One answer: its status, headers, and the chunks written (with a pause between them). */
interface Answer { status: number; headers: Record<string, string>; chunks: Buffer[] }

function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, chunks: [Buffer.from(JSON.stringify(body))] };
}

function answerFor(method: string, url: string): Answer {
  const path = url.split('?')[0]!;
  if (method !== 'POST') return json(405, { error: 'POST only' });
  if (/\/models\/[^/:]+:generateContent$/.test(path)) return json(200, geminiAnswer);
  if (/\/models\/[^/:]+:streamGenerateContent$/.test(path)) {
    if (!url.includes('alt=sse')) return json(400, { error: { code: 400, message: 'the fake streams SSE only', status: 'INVALID_ARGUMENT' } });
    return { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: geminiChunks.map((c) => Buffer.from(`data: ${JSON.stringify(c)}\r\n\r\n`)) };
  }
  if (/\/model\/[^/]+\/converse$/.test(path)) return json(200, bedrockAnswer, { 'x-amzn-requestid': 'req-bedrock-1' });
  if (/\/model\/[^/]+\/converse-stream$/.test(path)) {
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-bedrock-2' },
      chunks: bedrockEvents.map(([type, payload]) => Buffer.from(encodeAwsEvent(type, { ...payload, p: 'abcdef' }))),
    };
  }
  if (path === '/v1/messages') return json(200, anthropicAnswer, { 'request-id': 'req_anthropic_1' });
  return json(404, { error: `no such operation: ${path}` });
}

export class NativeProviders {
  readonly received: NativeReceived[] = [];
  /** The bytes of every answer, in order. */
  readonly sent: Buffer[] = [];
  private server: Server | undefined;
  url = '';

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      void wholeBody(req).then((raw) => {
        const body = jsonObjectOrEmpty(raw);
        const method = req.method ?? '';
        const url = req.url ?? '';
        this.received.push({ method, url, headers: req.headers, body });
        let a = answerFor(method, url);
        if (url.split('?')[0] === '/v1/messages' && body.stream === true) {
          a = {
            status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' },
            chunks: anthropicEvents.map((e) => Buffer.from(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`)),
          };
        }
        this.sent.push(Buffer.concat(a.chunks));
        res.writeHead(a.status, a.headers);
        void (async () => {
          for (const c of a.chunks) {
            res.write(c);
            await new Promise((r) => setTimeout(r, 5));
          }
          res.end();
        })();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.url;
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
