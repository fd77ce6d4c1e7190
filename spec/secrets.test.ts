// The operator's keys stay the operator's: with a known fake key configured for every provider, and a
// provider that echoes everything it received in its errors, no answer, error event, log line (the
// plugin server's, Kong's error log, Kong's log serializer) or metric ever contains a key; and no client
// request (a model name, a preserve path) makes the plugins send a key anywhere but the configured host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { getProvider } from '../shared/providers/core/registry';
import type { ProviderName } from '../shared/providers/core/types';
import { buildRequest } from './support/build-request';
import { contextFor, sseDataValues } from './support/provider-case';
import { waitFor } from './support/relay-log';
import { startTestGateway, type TestGateway } from './support/test-gateway';
import { wholeBody } from './fakes/request-body';

interface Seen { url: string; headers: Record<string, unknown>; body: string }

/** A provider that answers every request with an error quoting the whole request back. */
class EchoProvider {
  readonly seen: Seen[] = [];
  private server: Server | undefined;
  url = '';

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      void wholeBody(req).then((raw) => {
        const seen = { url: req.url ?? '', headers: req.headers, body: raw.toString() };
        this.seen.push(seen);
        const echo = `you sent ${JSON.stringify(seen)}`;
        // Every provider's error shape has a message somewhere: put the echo in all of them.
        res.writeHead(401, { 'content-type': 'application/json', 'x-echo': encodeURIComponent(echo).slice(0, 4000) });
        res.end(JSON.stringify({ error: { message: echo, type: 'invalid_request_error', code: 'invalid_api_key', status: 'UNAUTHENTICATED' }, message: echo, detail: echo }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

const SECRETS = {
  openai: 'sk-secret-openai-0123456789abcdef',
  azure: 'secret-azure-key-0123456789abcdef',
  anthropic: 'sk-ant-secret-0123456789abcdef',
  cohere: 'secret-cohere-0123456789abcdef',
  mistral: 'secret-mistral-0123456789abcdef',
  huggingface: 'hf_secret0123456789abcdef',
  llama2: 'secret-llama-0123456789abcdef',
  gemini: 'AIzaSecretGemini0123456789abcdef',
  bedrock: 'secret-bedrock-aws-secret-access-key-0000',
} as const;

function plugin(provider: keyof typeof SECRETS, url: string, model: string | null, routeType = 'llm/v1/chat'): Record<string, unknown> {
  const header = (name: string, value: string) => ({ header_name: name, header_value: value });
  const auth: Record<string, unknown> = {
    openai: header('Authorization', `Bearer ${SECRETS.openai}`),
    azure: header('api-key', SECRETS.azure),
    anthropic: header('x-api-key', SECRETS.anthropic),
    cohere: header('Authorization', `Bearer ${SECRETS.cohere}`),
    mistral: header('Authorization', `Bearer ${SECRETS.mistral}`),
    huggingface: header('Authorization', `Bearer ${SECRETS.huggingface}`),
    llama2: header('Authorization', `Bearer ${SECRETS.llama2}`),
    gemini: { param_name: 'key', param_value: SECRETS.gemini, param_location: 'query' },
    bedrock: { aws_access_key_id: 'AKIASECRETSTEST00000', aws_secret_access_key: SECRETS.bedrock },
  }[provider] as Record<string, unknown>;
  const options: Record<string, unknown> = {
    openai: {}, azure: { azure_instance: 'i', azure_deployment_id: 'd' }, anthropic: { anthropic_version: '2023-06-01', max_tokens: 64 },
    cohere: {}, mistral: { mistral_format: 'openai' }, huggingface: {}, llama2: { llama2_format: 'openai' }, gemini: {},
    bedrock: { bedrock: { aws_region: 'us-east-1' } },
  }[provider] as Record<string, unknown>;
  return {
    name: 'ai-proxy',
    config: {
      route_type: routeType, auth, logging: { log_statistics: true, log_payloads: true },
      model: { provider, name: model, options: { ...options, upstream_url: url } },
    },
  };
}

let echo: EchoProvider;
let elsewhere: EchoProvider;
let t: TestGateway;
const kongLog: Array<Record<string, unknown>> = [];
let metricsPort = 0;

before(async () => {
  echo = new EchoProvider();
  elsewhere = new EchoProvider();
  await echo.listen();
  await elsewhere.listen();
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  metricsPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const routes = (Object.keys(SECRETS) as Array<keyof typeof SECRETS>).flatMap((p) => [
    { name: p, paths: [`/s/${p}`], plugins: [plugin(p, `${echo.url}/${p}/v1/chat/completions`, 'm-1')] },
    // No configured model: the client names it (Kong's behaviour), so a model name may try anything.
    { name: `${p}-any`, paths: [`/any/${p}`], plugins: [plugin(p, `${echo.url}/${p}/v1/chat/completions`, null)] },
  ]);
  routes.push({ name: 'preserve', paths: ['/v1'], plugins: [plugin('openai', `${echo.url}/base`, null, 'preserve')] });
  t = await startTestGateway({
    config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes }] },
    layout: { env: { AI_GATEWAY_METRICS_LISTEN: `127.0.0.1:${metricsPort}` } },
    onRequestLog: (e) => kongLog.push(e),
  });
});

after(async () => {
  await t?.close();
  await echo.close();
  await elsewhere.close();
});

async function send(path: string, body: unknown): Promise<{ status: number; text: string; headers: string }> {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text(), headers: JSON.stringify([...res.headers]) };
}

test('no key in any answer, error event, log line or metric, whatever the provider echoes', async () => {
  const answers: string[] = [];
  for (const p of Object.keys(SECRETS)) {
    for (const stream of [false, true]) {
      const r = await send(`/s/${p}`, { messages: [{ role: 'user', content: 'hello' }], stream });
      assert.equal(r.status, 401, `${p}${stream ? ' stream' : ''}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /you sent/, `${p}: the provider's message reaches the client, scrubbed`);
      if (stream && r.text.startsWith('data:')) sseDataValues(r.text);
      answers.push(r.text, r.headers);
    }
  }
  // Every provider got its key (so the echo had it to leak).
  for (const [p, key] of Object.entries(SECRETS)) {
    const got = echo.seen.filter((s) => s.url.startsWith(`/${p}/`));
    assert.ok(got.length > 0, p);
    if (p !== 'bedrock') assert.ok(got.some((s) => JSON.stringify(s).includes(key)), `${p}: the provider received its key`);
  }
  await waitFor(() => (t.gw.serverOutput().filter((l) => l.line.startsWith('{')).length >= answers.length / 2 ? true : undefined), 'the log lines');
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const places: Record<string, string> = {
    answers: answers.join('\n'),
    'plugin server output': t.gw.serverOutput().map((l) => l.line).join('\n'),
    "Kong's error log": t.gw.kongLog.map((l) => l.message).join('\n'),
    "Kong's log serializer": JSON.stringify(kongLog),
    metrics,
  };
  for (const [where, text] of Object.entries(places)) {
    for (const [p, key] of Object.entries(SECRETS)) {
      const at = text.indexOf(key);
      assert.ok(at === -1, `${p}'s key appears in the ${where}: ...${text.slice(Math.max(0, at - 300), at + 60)}`);
    }
  }
});

test('no client request sends a key anywhere but the configured host, nor up the provider\'s path', async () => {
  const other = new URL(elsewhere.url);
  const models = [
    `http://${other.host}/x`, `//${other.host}/x`, `@${other.host}`, '../../../../etc', '..', '.', '../x', 'a/../../b',
    `x?host=${other.host}`, `x#${other.host}`, 'x\\..\\..\\y', '%2e%2e', `${other.host}:${other.port}`,
  ];
  for (const p of Object.keys(SECRETS)) {
    for (const model of models) {
      const before = echo.seen.length;
      const r = await send(`/any/${p}`, { model, messages: [{ role: 'user', content: 'hello' }] });
      assert.ok(r.status < 500 || r.status === 502, `${p} ${model}: ${r.status} ${r.text.slice(0, 200)}`);
      for (const s of echo.seen.slice(before)) {
        const path = s.url.split('?')[0]!;
        assert.ok(path.startsWith(`/${p}/`), `${p} with model ${JSON.stringify(model)} called ${s.url}: up the provider's path`);
      }
    }
  }
  // preserve: the client's path goes to the configured host only.
  for (const path of [`/v1//${other.host}/x`, '/v1/..%2F..%2Fx', `/v1/%2F%2F${other.host}`, '/v1/x/../../../y', `/v1/@${other.host}`]) {
    const r = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1 }) });
    await r.text();
  }
  assert.equal(elsewhere.seen.length, 0, `another host was called: ${JSON.stringify(elsewhere.seen)}`);
});

test('a model name cannot walk the provider\'s default URL: every hostile name stays one path segment on the provider\'s host', async () => {
  const hostile = ['..', '.', '../../../v1/files', 'a/../../b', '%2e%2e', '@evil.example', 'x?key=1', 'x#frag', 'x\\..\\y', '//evil.example/x'];
  const cases: Array<{ provider: ProviderName; options: Record<string, unknown>; auth: Record<string, unknown>; host: string; prefix: string }> = [
    { provider: 'bedrock', options: { bedrock: { aws_region: 'us-east-1' } }, auth: { aws_access_key_id: 'AKIASECRETSTEST00000', aws_secret_access_key: SECRETS.bedrock }, host: 'bedrock-runtime.us-east-1.amazonaws.com', prefix: '/model/' },
    { provider: 'gemini', options: {}, auth: { param_name: 'key', param_value: SECRETS.gemini, param_location: 'query' }, host: 'generativelanguage.googleapis.com', prefix: '/v1beta/models/' },
    { provider: 'huggingface', options: {}, auth: { header_name: 'Authorization', header_value: `Bearer ${SECRETS.huggingface}` }, host: 'router.huggingface.co', prefix: '/' },
  ];
  for (const c of cases) {
    for (const model of hostile) {
      const ctx = contextFor(c.provider, { route_type: 'llm/v1/chat', model, options: c.options, auth: c.auth, request: { messages: [{ role: 'user', content: 'x' }] } });
      let url: URL;
      try {
        url = new URL((await buildRequest(getProvider(c.provider), { model, messages: [{ role: 'user', content: 'x' }] }, ctx)).url);
      } catch {
        continue; // refused: nothing sent
      }
      assert.equal(url.host, c.host, `${c.provider} ${JSON.stringify(model)}: ${url.href}`);
      assert.ok(url.pathname.startsWith(c.prefix), `${c.provider} ${JSON.stringify(model)}: ${url.pathname}`);
      assert.ok(!/(^|\/)\.\.?(\/|$)/.test(url.pathname) && !url.pathname.includes('/v1/files'), `${c.provider} ${JSON.stringify(model)} walked the path: ${url.pathname}`);
      if (c.provider !== 'huggingface') assert.equal(url.pathname.split('/').length, c.prefix.split('/').length + (c.provider === 'bedrock' ? 1 : 0), `${c.provider} ${JSON.stringify(model)}: one segment (${url.pathname})`);
    }
  }
});
