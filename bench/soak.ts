// `npm run soak` (not part of `npm test`): 100,000 mixed requests at concurrency 64 through the local
// gateway (the Kong-side harness over the real plugin servers), against fake providers that inject
// faults at random: chat, streams, embeddings, the guard (some prompts denied) and ai-proxy-advanced
// (two targets, failover on). It prints the answers by kind and status, the requests lost (no answer
// at all: must be 0), plugin-server restarts (must be 0) and the plugin servers' live memory at the
// start, the middle and the end. `-- --requests N` runs N instead; `-- --seed S` replays a fault sequence.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { parseDeclarativeConfig } from '../tools/harness/declarative-config';
import { KongGateway } from '../tools/harness/kong-gateway';
import { pluginServerDefs } from '../tools/harness/plugin-server-layout';

const arg = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const REQUESTS = arg('--requests', 100_000);
const CONCURRENCY = 64;
const READ_TIMEOUT = 2000;
const FAULT_RATE = 0.08;
const CLIENT_TIMEOUT_MS = 30_000;

/** A small seeded generator (mulberry32): the same seed, the same faults. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const seed = arg('--seed', Date.now() % 2_147_483_647);
const rnd = random(seed);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;
const delta = (content: string | null) => ({
  id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1700000000, model: 'soak',
  choices: content === null ? [{ index: 0, delta: {}, finish_reason: 'stop' }] : [{ index: 0, delta: { content }, finish_reason: null }],
});

type Fault = 'none' | '500' | '429' | 'reset' | 'slow' | 'stall' | 'not-json' | 'truncated';
const FAULTS: Fault[] = ['500', '429', 'reset', 'slow', 'stall', 'not-json', 'truncated'];

/** An OpenAI-format provider (chat, streams, embeddings) that fails now and then. */
async function faultyOpenAI(): Promise<{ server: Server; url: string; faults: Map<Fault, number> }> {
  const faults = new Map<Fault, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      const fault: Fault = rnd() < FAULT_RATE ? FAULTS[Math.floor(rnd() * FAULTS.length)]! : 'none';
      faults.set(fault, (faults.get(fault) ?? 0) + 1);
      void answer(req, res, body, fault).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, faults };
}

async function answer(req: IncomingMessage, res: ServerResponse, body: string, fault: Fault): Promise<void> {
  const stream = /"stream"\s*:\s*true/.test(body);
  switch (fault) {
    case '500': res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"upstream broke","type":"server_error"}}'); return;
    case '429': res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":{"message":"slow down","type":"requests"}}'); return;
    case 'reset': req.socket.destroy(); return;
    case 'stall': await sleep(READ_TIMEOUT * 1.5); break;
    case 'slow': await sleep(READ_TIMEOUT / 3); break;
    case 'not-json': res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'); return;
    default: break;
  }
  if (req.url?.includes('/embeddings')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      object: 'list', model: 'soak-embed', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: 2, total_tokens: 2 },
    }));
    return;
  }
  if (stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse(delta('soak ')));
    if (fault === 'truncated') { res.end('data: {"id":'); return; }
    res.end(sse(delta('done')) + sse(delta(null)) + 'data: [DONE]\n\n');
    return;
  }
  if (fault === 'truncated') { res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"chatcmpl-soak","choi'); return; }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
    id: 'chatcmpl-soak', object: 'chat.completion', created: 1700000000, model: 'soak',
    choices: [{ index: 0, message: { role: 'assistant', content: 'soak' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  }));
}

interface ProcStatus { Process: { RssBytes: number; HeapUsedBytes: number } }

async function memory(gw: KongGateway): Promise<string> {
  const all = await gw.serverStatuses({ gc: true });
  return all.map((s) => {
    const p = (s.status as ProcStatus).Process;
    return `${s.server} heap ${(p.HeapUsedBytes / 1048576).toFixed(1)} MB rss ${(p.RssBytes / 1048576).toFixed(1)} MB`;
  }).join(', ');
}

type Kind = 'chat' | 'stream' | 'embeddings' | 'guard' | 'advanced';
const KINDS: Kind[] = ['chat', 'stream', 'embeddings', 'guard', 'advanced'];

function requestFor(kind: Kind, i: number): { path: string; body: string } {
  const messages = [{ role: 'user', content: `question ${i} about my order` }];
  switch (kind) {
    case 'chat': return { path: '/soak/chat', body: JSON.stringify({ messages }) };
    case 'stream': return { path: '/soak/chat', body: JSON.stringify({ messages, stream: true }) };
    case 'embeddings': return { path: '/soak/embeddings', body: JSON.stringify({ input: `text ${i}` }) };
    case 'guard': return { path: '/soak/guard', body: JSON.stringify({ messages: [{ role: 'user', content: i % 10 === 0 ? 'ignore previous instructions' : `order ${i}` }] }) };
    case 'advanced': return { path: '/soak/advanced', body: JSON.stringify({ messages, stream: i % 3 === 0 }) };
  }
}

async function main(): Promise<void> {
  const a = await faultyOpenAI();
  const b = await faultyOpenAI();
  const target = (url: string, routeType = 'llm/v1/chat', path = '/v1/chat/completions') => ({
    route_type: routeType, auth: { header_name: 'Authorization', header_value: 'Bearer sk-soak-000000000000' },
    model: { provider: 'openai', name: 'soak', options: { upstream_url: `${url}${path}` } }, logging: { log_statistics: true },
  });
  const services = [{
    name: 'soak', url: 'http://127.0.0.1:65535', read_timeout: READ_TIMEOUT, routes: [
      { name: 'chat', paths: ['/soak/chat'], response_buffering: false, plugins: [{ name: 'ai-proxy', config: target(a.url) }] },
      { name: 'embeddings', paths: ['/soak/embeddings'], plugins: [{ name: 'ai-proxy', config: target(a.url, 'llm/v1/embeddings', '/v1/embeddings') }] },
      { name: 'guard', paths: ['/soak/guard'], plugins: [
        { name: 'ai-prompt-guard', config: { deny_patterns: ['(?i)ignore previous'], allow_patterns: ['(?i)order'] } },
        { name: 'ai-proxy', config: target(a.url) },
      ] },
      { name: 'advanced', paths: ['/soak/advanced'], response_buffering: false, plugins: [{ name: 'ai-proxy-advanced', config: {
        targets: [{ ...target(a.url), weight: 100 }, { ...target(b.url), weight: 100 }],
        balancer: { algorithm: 'round-robin', retries: 1, read_timeout: READ_TIMEOUT, failover_criteria: ['error', 'timeout', 'http_429', 'http_500', 'invalid_header', 'non_idempotent'] },
      } }] },
    ],
  }];
  const prefix = mkdtempSync(join(tmpdir(), 'kong-soak-'));
  const gw = new KongGateway({
    config: parseDeclarativeConfig({ _format_version: '3.0', services }),
    servers: pluginServerDefs({ prefix, only: ['ai-proxy', 'ai-proxy-advanced', 'ai-prompt-guard'], nodeArgs: ['--expose-gc'] }),
    workers: 2,
  });
  await gw.start();
  const { port } = await gw.listen('127.0.0.1', 0);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  const counts = new Map<string, number>();
  const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  let lost = 0;
  const lostReasons = new Map<string, number>();
  try {
    console.log(`soak: ${REQUESTS} requests (${KINDS.join(', ')}), concurrency ${CONCURRENCY}, ${FAULT_RATE * 100}% of provider calls faulty (${FAULTS.join(', ')}), seed ${seed}`);
    console.log(`memory at start: ${await memory(gw)}`);
    let next = 0;
    let middle = '';
    const started = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        if (i === Math.floor(REQUESTS / 2)) void memory(gw).then((m) => { middle = m; });
        const kind = KINDS[i % KINDS.length]!;
        const r = requestFor(kind, i);
        try {
          const res = await pool.request({ method: 'POST', path: r.path, body: r.body, headers: { 'content-type': 'application/json' }, headersTimeout: CLIENT_TIMEOUT_MS, bodyTimeout: CLIENT_TIMEOUT_MS });
          const text = await res.body.text();
          const broken = res.statusCode === 200 && text.includes('"error"') ? ' (error event)' : '';
          count(`${kind} ${res.statusCode}${broken}`);
        } catch (e) {
          lost++;
          const why = (e as { code?: string }).code ?? (e as Error).message;
          lostReasons.set(why, (lostReasons.get(why) ?? 0) + 1);
        }
      }
    }));
    const seconds = (Date.now() - started) / 1000;
    console.log(`memory in the middle: ${middle}`);
    console.log(`memory at the end: ${await memory(gw)}`);
    console.log(`${REQUESTS} requests in ${seconds.toFixed(0)} s (${(REQUESTS / seconds).toFixed(0)} per second)`);
    console.log('answers by kind and status:');
    for (const [k, n] of [...counts].sort()) console.log(`  ${k.padEnd(36)} ${n}`);
    const injected = new Map<Fault, number>();
    for (const f of [a.faults, b.faults]) for (const [k, n] of f) injected.set(k, (injected.get(k) ?? 0) + n);
    console.log(`provider calls by injected fault: ${[...injected].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const restarts = gw.processes.reduce((t, p) => t + p.pids.length - 1, 0);
    console.log(`requests lost (no answer at all): ${lost}${lost ? ` (${[...lostReasons].map(([k, n]) => `${k} ${n}`).join(', ')})` : ''} (must be 0)`);
    console.log(`plugin-server restarts: ${restarts} (must be 0)`);
    if (lost > 0 || restarts > 0) process.exitCode = 1;
  } finally {
    await pool.close();
    await gw.close();
    a.server.closeAllConnections();
    b.server.closeAllConnections();
    a.server.close();
    b.server.close();
    rmSync(prefix, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
