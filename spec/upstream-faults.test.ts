// Every upstream fault has one defined answer, through the real plugin server, and the server goes on
// serving: ai-proxy's answer to each fault (status, OpenAI-style error or error event, the log line),
// then ai-proxy-advanced moving to the next target when failover_criteria allow it and not otherwise.
// The README's failure table lists the same rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { encodeAwsEvent } from '../shared/providers/core/framing';
import { MAX_RESPONSE_BYTES } from '../shared/relay/answers';
import { chunk, sleep } from './fakes/scripted-provider';
import { sseDataValues } from './support/provider-case';
import { lineFor } from './support/relay-log';
import { postJson, startTestGateway, type TestGateway } from './support/test-gateway';

const KEY = 'sk-faults-0123456789abcdef';
const READ_TIMEOUT = 700;

const completion = (content: string) => JSON.stringify({
  id: 'chatcmpl-f', object: 'chat.completion', created: 1700000000, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;

type Fault = (req: IncomingMessage, res: ServerResponse, stream: boolean) => Promise<void> | void;

/** The faults a provider can show, by name; `healthy` answers. */
const FAULTS: Record<string, Fault> = {
  healthy: (_q, res, stream) => {
    if (!stream) { res.writeHead(200, { 'content-type': 'application/json' }).end(completion('fine')); return; }
    res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse(chunk('fine')) + sse(chunk(null)) + 'data: [DONE]\n\n');
  },
  'reset-before-headers': (req) => { req.socket.destroy(); },
  'never-answers': () => { /* holds the connection */ },
  '429': (_q, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' })
      .end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }));
  },
  '500': (_q, res) => { res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } })); },
  '503': (_q, res) => { res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>'); },
  'not-json': (_q, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a login page</html>'); },
  oversized: async (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const mb = Buffer.alloc(1024 * 1024, ' ');
    res.write('{"id":"x","choices":[{"message":{"content":"');
    for (let sent = 0; sent <= MAX_RESPONSE_BYTES && !res.destroyed; sent += mb.length) {
      if (!res.write(mb)) await new Promise((r) => res.once('drain', r));
    }
    res.end('"}}]}');
  },
  'reset-mid-stream': async (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse(chunk('half')));
    await sleep(30);
    res.socket?.destroy();
  },
  'truncated-sse': (_q, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse(chunk('cut')) + 'data: {"id":"chatcmpl-f","obj'); },
  'slow-drip': async (_q, res) => {
    // Each pause shorter than the read timeout, all of them together longer: the stream is whole.
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const w of ['one ', 'two ', 'three ', 'four ']) {
      res.write(sse(chunk(w)));
      await sleep(READ_TIMEOUT / 2);
    }
    res.end(sse(chunk(null)) + 'data: [DONE]\n\n');
  },
  'stalled-stream': async (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse(chunk('then nothing')));
    await sleep(READ_TIMEOUT * 3);
    res.end();
  },
  'truncated-eventstream': (_q, res) => {
    const frame = encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'cut' } });
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    res.end(Buffer.concat([encodeAwsEvent('messageStart', { role: 'assistant' }), frame, frame.subarray(0, frame.length - 7)]));
  },
};

let faults: Server;
let faultUrl = '';
let refusedUrl = '';
before(async () => {
  faults = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const name = decodeURIComponent((req.url ?? '').split('/')[2] ?? '');
      const text = Buffer.concat(parts).toString();
      const stream = /"stream"\s*:\s*true/.test(text) || (req.url ?? '').includes('converse-stream');
      Promise.resolve(FAULTS[name]!(req, res, stream)).catch(() => res.destroy());
    });
  });
  faults.keepAliveTimeout = 1000;
  await new Promise<void>((r) => faults.listen(0, '127.0.0.1', () => r()));
  faultUrl = `http://127.0.0.1:${(faults.address() as { port: number }).port}`;
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  refusedUrl = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
});
after(() => { faults.closeAllConnections(); faults.close(); });

const upstream = (fault: string) => (fault === 'refused' ? `${refusedUrl}/v1/chat/completions` : `${faultUrl}/f/${fault}/v1/chat/completions`);

function openaiTarget(fault: string): Record<string, unknown> {
  return {
    route_type: 'llm/v1/chat', auth: { header_name: 'Authorization', header_value: `Bearer ${KEY}` },
    model: { provider: 'openai', name: fault, options: { upstream_url: upstream(fault) } }, logging: { log_statistics: true },
  };
}

function bedrockTarget(fault: string): Record<string, unknown> {
  return {
    route_type: 'llm/v1/chat', auth: { aws_access_key_id: 'AKIAFAULTSFAULTS0000', aws_secret_access_key: 'faults-secret-faults-secret-faults-00000' },
    model: { provider: 'bedrock', name: 'anthropic.claude-3-haiku', options: { bedrock: { aws_region: 'us-east-1' }, upstream_url: `${faultUrl}/f/${fault}/model/x/converse` } },
    logging: { log_statistics: true },
  };
}

const chat = (stream = false) => ({ messages: [{ role: 'user', content: 'hello' }], stream });

interface Outcome { status: number; error?: string; type?: string; events?: unknown[]; retryAfter?: string | null; model?: string; requestId: string }

async function ask(t: TestGateway, path: string, stream: boolean): Promise<Outcome> {
  const r = await postJson(`${t.url}${path}`, chat(stream));
  const requestId = r.headers.get('x-kong-request-id') ?? '';
  if (stream && r.status === 200) return { status: 200, events: sseDataValues(r.text), requestId };
  const j = r.json as { error?: { message: string; type: string }; model?: string; choices?: Array<{ message: { content: string } }> } | undefined;
  return {
    status: r.status, requestId, retryAfter: r.headers.get('retry-after'),
    ...(j?.error ? { error: j.error.message, type: j.error.type } : { model: j?.choices?.[0]?.message.content }),
  };
}

/** What ai-proxy answers for each fault: status, error type and message, and what the log line says. */
const AI_PROXY_ROWS: Array<{ fault: string; stream: boolean; status: number; type?: string; message: RegExp; log: RegExp; events?: (e: unknown[]) => void }> = [
  { fault: 'refused', stream: false, status: 502, type: 'server_error', message: /provider \(openai\) could not be reached/, log: /ECONNREFUSED/ },
  { fault: 'reset-before-headers', stream: false, status: 502, type: 'server_error', message: /could not be reached or broke the connection/, log: /127\.0\.0\.1:\d+: (UND_ERR_SOCKET|ECONNRESET)/ },
  { fault: 'never-answers', stream: false, status: 504, type: 'timeout_error', message: /timed out/, log: /no complete answer within/ },
  { fault: 'never-answers', stream: true, status: 504, type: 'timeout_error', message: /timed out/, log: /timed out|nothing for/ },
  { fault: '429', stream: false, status: 429, type: 'rate_limit_error', message: /Rate limit reached/, log: /Rate limit reached/ },
  { fault: '500', stream: false, status: 500, type: 'server_error', message: /The server had an error/, log: /The server had an error/ },
  { fault: '503', stream: true, status: 503, message: /./, log: /./ },
  { fault: 'not-json', stream: false, status: 500, message: /transformation failed from type openai:\/\/llm\/v1\/chat: failed to decode/, log: /failed to decode/ },
  { fault: 'oversized', stream: false, status: 502, type: 'server_error', message: /response is over \d+ bytes/, log: /over \d+ bytes/ },
  {
    fault: 'reset-mid-stream', stream: true, status: 200, message: /./, log: /upstream stream failed|broke/,
    events: (e) => { assert.equal(content(e[0]), 'half'); assert.ok(errorOf(e.at(-2))); },
  },
  {
    fault: 'truncated-sse', stream: true, status: 200, message: /./, log: /ended before|invalid JSON/,
    events: (e) => { assert.equal(content(e[0]), 'cut'); assert.match(errorOf(e.at(-2)) ?? '', /ended before|invalid JSON/); },
  },
  {
    fault: 'slow-drip', stream: true, status: 200, message: /./, log: /^$/,
    events: (e) => { assert.equal(e.slice(0, 4).map(content).join(''), 'one two three four '); assert.equal(errorOf(e.at(-2)), undefined); },
  },
  {
    fault: 'stalled-stream', stream: true, status: 200, message: /./, log: /timed out/,
    events: (e) => { assert.equal(content(e[0]), 'then nothing'); assert.match(errorOf(e.at(-2)) ?? '', /timed out/); },
  },
];

function content(v: unknown): string | undefined {
  return (v as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
}
function errorOf(v: unknown): string | undefined {
  return (v as { error?: { message: string } }).error?.message;
}

test('ai-proxy: every upstream fault has its defined answer and log line, and the plugin server serves the next request', async () => {
  const routes = AI_PROXY_ROWS.map((row, i) => ({ name: `r${i}`, paths: [`/p/${i}`], plugins: [{ name: 'ai-proxy', config: openaiTarget(row.fault) }] }));
  routes.push({ name: 'ok', paths: ['/ok'], plugins: [{ name: 'ai-proxy', config: openaiTarget('healthy') }] });
  routes.push({ name: 'bedrock', paths: ['/bedrock'], plugins: [{ name: 'ai-proxy', config: bedrockTarget('truncated-eventstream') }] });
  const t = await startTestGateway({ config: { _format_version: '3.0', services: [{ name: 's', url: 'http://127.0.0.1:9', read_timeout: READ_TIMEOUT + 1000, routes }] } });
  try {
    const pids = t.gw.processes.map((p) => p.pid);
    for (const [i, row] of AI_PROXY_ROWS.entries()) {
      const what = `${row.fault}${row.stream ? ' (stream)' : ''}`;
      const o = await ask(t, `/p/${i}`, row.stream);
      assert.equal(o.status, row.status, `${what}: ${JSON.stringify(o)}`);
      if (row.events) {
        row.events(o.events!);
        assert.equal(o.events!.at(-1), '[DONE]', `${what}: the stream still ends with [DONE]`);
      } else {
        assert.match(o.error ?? '', row.message, what);
        if (row.type) assert.equal(o.type, row.type, what);
        assert.ok(!(o.error ?? '').includes('127.0.0.1'), `${what}: no address in the answer`);
      }
      if (row.fault === '429') assert.equal(o.retryAfter, '3', 'Retry-After passes');
      const line = await lineFor(t, o.requestId);
      assert.match(`${String(line.error ?? '')} ${String(line.error_detail ?? '')}`.trim(), row.log, `${what}: log line ${JSON.stringify(line)}`);
      const next = await ask(t, '/ok', false);
      assert.equal(next.status, 200, `after ${what}, the next request is served`);
    }
    const cut = await ask(t, '/bedrock', true);
    assert.equal(cut.status, 200);
    assert.match(errorOf(cut.events!.at(-2)) ?? '', /event stream ended inside a frame/, JSON.stringify(cut.events));
    assert.equal(cut.events!.at(-1), '[DONE]');
    assert.deepEqual(t.gw.processes.map((p) => p.pid), pids, 'no plugin server restarted');
  } finally {
    await t.close();
  }
});

test('ai-proxy-advanced: a fault moves the request to the next target when failover_criteria allow it, and only then', async () => {
  const all = ['error', 'timeout', 'invalid_header', 'http_429', 'http_500', 'http_503', 'non_idempotent'];
  const advanced = (fault: string, criteria: string[] | undefined) => ({
    name: 'ai-proxy-advanced',
    config: {
      targets: [openaiTarget(fault), openaiTarget('healthy')],
      balancer: { algorithm: 'priority', retries: 1, read_timeout: READ_TIMEOUT, ...(criteria ? { failover_criteria: criteria } : {}) },
    },
  });
  const rows: Array<{ fault: string; stream?: boolean; all: number; byDefault: number }> = [
    // Kong's default criteria are error and timeout; a POST that reached the provider moves on only with non_idempotent.
    { fault: 'refused', all: 200, byDefault: 200 },
    { fault: 'reset-before-headers', all: 200, byDefault: 502 },
    { fault: 'never-answers', all: 200, byDefault: 504 },
    { fault: '429', all: 200, byDefault: 429 },
    { fault: '500', all: 200, byDefault: 500 },
    { fault: '503', all: 200, byDefault: 503 },
    { fault: 'not-json', all: 200, byDefault: 500 },
    { fault: 'oversized', all: 200, byDefault: 502 },
    // Past its first chunk a stream cannot move: the client has it.
    { fault: 'truncated-sse', stream: true, all: 200, byDefault: 200 },
  ];
  const routes = rows.flatMap((row, i) => [
    { name: `all${i}`, paths: [`/all/${i}`], plugins: [advanced(row.fault, all)] },
    { name: `def${i}`, paths: [`/def/${i}`], plugins: [advanced(row.fault, undefined)] },
  ]);
  const t = await startTestGateway({ config: { _format_version: '3.0', services: [{ name: 's', url: 'http://127.0.0.1:9', read_timeout: 10_000, routes }] } });
  try {
    for (const [i, row] of rows.entries()) {
      const stream = row.stream === true;
      const withAll = await ask(t, `/all/${i}`, stream);
      const byDefault = await ask(t, `/def/${i}`, stream);
      assert.equal(withAll.status, row.all, `${row.fault}, every criterion: ${JSON.stringify(withAll)}`);
      assert.equal(byDefault.status, row.byDefault, `${row.fault}, default criteria: ${JSON.stringify(byDefault)}`);
      if (!stream) {
        assert.equal(withAll.model, 'fine', `${row.fault}: served by the next target`);
        const tried = ((await lineFor(t, withAll.requestId)).ai as { proxy: { tried_targets: Array<{ target: number }> } }).proxy.tried_targets;
        assert.deepEqual(tried.map((x) => x.target), [0, 1], `${row.fault}: both targets in tried_targets`);
      } else {
        assert.match(errorOf(withAll.events!.at(-2)) ?? '', /ended before|invalid JSON/, 'the stream broke after its first chunk: no failover');
      }
    }
  } finally {
    await t.close();
  }
});
