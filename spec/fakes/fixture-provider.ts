// A fake provider that replays one fixture case (spec/fixtures/providers/<provider>/<case>): it answers
// with the case's response.json, its stream bytes (in pieces, with the content type of the provider's
// framing), or its error.json, and records what it received. One listening port per case, so the port
// says which case is asked.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { StreamFraming } from '../../shared/providers/core/types';
import type { ProviderCase } from '../support/provider-case';

export interface RecordedCall {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** `auto`: the stream when the request asks for one (body or path), else the response. */
export type Reply = 'response' | 'stream' | 'error' | 'canned' | 'auto';

export const STREAM_CONTENT_TYPES: Readonly<Record<StreamFraming, string>> = {
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson',
  'aws-eventstream': 'application/vnd.amazon.eventstream',
};

export class FixtureProvider {
  readonly calls: RecordedCall[] = [];
  private server: Server | undefined;
  url = '';
  /** What the next requests get. */
  reply: Reply = 'canned';

  /** `streamCase`: where the stream comes from, when not from `c` (a case has a response or a stream). */
  constructor(readonly c: ProviderCase, private readonly framing: StreamFraming, private readonly pieces = 3,
    private readonly streamCase: ProviderCase = c) {}

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
        this.calls.push(call);
        const streams = /"stream"\s*:\s*true/.test(call.body) || /stream/i.test(call.url);
        void this.answer(res, this.reply === 'auto' ? (streams ? 'stream' : 'response') : this.reply);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    return this.url;
  }

  private async answer(res: import('node:http').ServerResponse, reply: Reply): Promise<void> {
    const c = this.c;
    if (reply === 'error') {
      const e = c.json('error.json') as { status: number; body: unknown };
      const text = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
      res.writeHead(e.status, { 'content-type': typeof e.body === 'string' ? 'text/html' : 'application/json', 'set-cookie': 'provider-session=1' });
      res.end(text);
      return;
    }
    if (reply === 'response') {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'provider-session=1', 'x-provider-request-id': 'req-123' });
      res.end(JSON.stringify(c.json('response.json')));
      return;
    }
    if (reply === 'stream') {
      const bytes = this.streamCase.stream()!;
      res.writeHead(200, { 'content-type': STREAM_CONTENT_TYPES[this.framing], 'set-cookie': 'provider-session=1' });
      const size = Math.ceil(bytes.length / this.pieces);
      for (let i = 0; i < bytes.length; i += size) {
        res.write(bytes.subarray(i, i + size));
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ canned: true, case: `${c.provider}/${c.name}` }));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
