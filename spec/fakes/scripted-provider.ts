// A fake provider whose answer each test writes: OpenAI-format stream events sent with pauses (and the
// time each was sent, to compare with when the client got it), a stream that stalls or breaks half way,
// any status and body, or no answer at all. Records what it received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { jsonObjectOrEmpty, wholeBody } from './request-body';

export interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export type Script = (req: Received, res: ServerResponse) => Promise<void> | void;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function chunk(content: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1700000000, model: 'scripted-1',
    choices: content === null ? [{ index: 0, delta: {}, finish_reason: 'stop' }] : [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  };
}

export class ScriptedProvider {
  readonly received: Received[] = [];
  /** Date.now() at which each stream event was written, for the latest stream. */
  sentAt: number[] = [];
  script: Script = (_r, res) => { res.writeHead(500); res.end(); };
  private server: Server | undefined;
  url = '';

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      void wholeBody(req).then((raw) => {
        const r = { url: req.url ?? '', headers: req.headers, body: jsonObjectOrEmpty(raw) };
        this.received.push(r);
        return this.script(r, res);
      }).catch(() => res.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    return this.url;
  }

  /** An OpenAI SSE stream of `pieces`, `pauseMs` apart; the final usage chunk when `usage` is given. */
  stream(pieces: string[], pauseMs: number, usage?: Record<string, number>): Script {
    return async (_r, res) => {
      this.sentAt = [];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (v: unknown) => { res.write(`data: ${JSON.stringify(v)}\n\n`); this.sentAt.push(Date.now()); };
      for (const p of pieces) {
        send(chunk(p));
        await sleep(pauseMs);
      }
      send(chunk(null));
      if (usage) send({ ...chunk(null), choices: [], usage });
      res.end('data: [DONE]\n\n');
    };
  }

  /** OpenAI's answer to whatever is asked: a stream for a stream request, else one completion with usage. */
  answer(content: string): Script {
    return async (r, res) => {
      if (r.body.stream === true) return this.stream([content], 0)(r, res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'chatcmpl-scripted', object: 'chat.completion', created: 1700000000, model: 'scripted-1',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      }));
    };
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
