// The local providers a deck test file names (at one fixed address, since the deck file says it): a
// few paths answer as the test says (an Anthropic fixture, an Ollama answer, an overloaded server), and
// every other request goes on to an OpenAI fake (chat completions, embeddings). Records what it got.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FakeOpenAI } from '../../tools/local-gateway/fake-openai';

export interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface CannedReply {
  status?: number;
  contentType?: string;
  body: string | Buffer;
}

/** A path's answer: undefined lets the request go on to the OpenAI fake. */
export type DeckRoute = (path: string, body: Record<string, unknown>) => CannedReply | undefined;

export class DeckProviders {
  readonly seen: Seen[] = [];
  private server: Server | undefined;

  constructor(private readonly openai: FakeOpenAI, private readonly route: DeckRoute) {}

  async listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const body = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
        this.seen.push({ url: req.url ?? '', headers: req.headers, body });
        const canned = this.route((req.url ?? '').split('?')[0]!, body);
        if (canned) {
          res.writeHead(canned.status ?? 200, { 'content-type': canned.contentType ?? 'application/json' });
          res.end(canned.body);
          return;
        }
        const headers = { 'content-type': 'application/json', authorization: String(req.headers.authorization ?? '') };
        void fetch(`${this.openai.url}${req.url}`, { method: 'POST', headers, body: raw }).then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          for await (const c of r.body!) res.write(c);
          res.end();
        }, () => res.destroy());
      });
    });
    this.server = server;
    await new Promise<void>((r, j) => { server.once('error', j); server.listen(port, '127.0.0.1', () => r()); });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
