// Every provider fixture case (spec/fixtures/providers) end to end through Kong's side: the real plugin
// server, ai-proxy configured as a deck file would, the loopback relay, and a fake provider replaying the
// case. What the client gets must equal expected.json / stream.expected.jsonl / error.json's expectation
// (ids built from the request id and `created` aside), and what the provider received must equal
// upstream-request.json. Cases of a route type the provider does not serve are reported as skipped.
// PROVIDER=a,b limits the run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getProvider } from '../shared/providers/core/registry';
import { FixtureProvider, type Reply } from './fakes/fixture-provider';
import { casePlugin } from './support/case-plugin';
import { loadCases, sseDataValues, type ProviderCase } from './support/provider-case';
import { startTestGateway, type TestGateway } from './support/test-gateway';

const all = loadCases(process.env.PROVIDER);
const runnable = (c: ProviderCase) => getProvider(c.provider).routeTypes.includes(c.input.route_type);
const cases = all.filter(runnable);

interface Running {
  gw: TestGateway;
  fake: FixtureProvider;
  path: string;
}
const running = new Map<string, Running>();
const gateways: TestGateway[] = [];
const fakes: FixtureProvider[] = [];

/** The client's request for a case: its body, streaming as the case streams. */
function clientBody(c: ProviderCase, stream: boolean): Record<string, unknown> {
  const body = structuredClone(c.input.request) as Record<string, unknown>;
  if (c.input.route_type !== 'preserve') {
    if (typeof body.model === 'string' && body.model !== c.input.model) delete body.model;
    if (stream) body.stream = true;
    else delete body.stream;
    if (stream && c.input.include_usage) body.stream_options = { include_usage: true };
  }
  return body;
}

/** Ids the translation builds from the request id, and `created` (the clock), made comparable. */
function normalise(v: unknown, requestId: string): unknown {
  if (typeof v === 'string') return v.split(requestId).join('test-request-id');
  if (Array.isArray(v)) return v.map((x) => normalise(x, requestId));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'created' && typeof x === 'number' ? 0 : normalise(x, requestId)]));
  }
  return v;
}

before(async () => {
  const groups = new Map<string, ProviderCase[]>();
  for (const c of cases) {
    const key = JSON.stringify(c.input.env ?? {});
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [envJson, group] of groups) {
    const routes: Array<{ name: string; paths: string[]; plugins: unknown[] }> = [];
    const made: Array<[ProviderCase, FixtureProvider, string]> = [];
    for (const c of group) {
      const p = getProvider(c.provider);
      const fake = new FixtureProvider(c, p.framing(c.ctx));
      await fake.listen();
      fakes.push(fake);
      const path = `/e2e/${c.provider}/${c.name}`;
      routes.push({ name: `${c.provider}-${c.name}`, paths: [path], plugins: [casePlugin(c, fake.url)] });
      made.push([c, fake, path]);
    }
    const gw = await startTestGateway({
      config: { _format_version: '3.0', services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes }] },
      layout: { env: JSON.parse(envJson) as Record<string, string> },
    });
    gateways.push(gw);
    for (const [c, fake, path] of made) running.set(`${c.provider}/${c.name}`, { gw, fake, path });
  }
});

after(async () => {
  for (const g of gateways) await g.close();
  for (const f of fakes) await f.close();
});

async function call(c: ProviderCase, reply: Reply, stream: boolean) {
  const r = running.get(`${c.provider}/${c.name}`)!;
  r.fake.reply = reply;
  const before = r.fake.calls.length;
  const res = await fetch(`${r.gw.url}${r.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client-own-key-0123456789' },
    body: JSON.stringify(clientBody(c, stream)),
  });
  const text = await res.text();
  const requestId = res.headers.get('x-kong-request-id') ?? '';
  return { res, text, requestId, upstream: r.fake.calls.slice(before) };
}

function checkUpstream(c: ProviderCase, upstream: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }>): void {
  assert.equal(upstream.length, 1, 'one provider call');
  const got = upstream[0]!;
  assert.equal(got.headers.authorization === 'Bearer sk-client-own-key-0123456789', false, "the client's own key never reaches the provider");
  if (!c.has('upstream-request.json')) return;
  const exp = c.json('upstream-request.json') as { method: string; url: string; headers?: Record<string, string>; body?: unknown };
  const url = new URL(exp.url);
  assert.equal(got.method, exp.method);
  const [gotPath, gotQuery = ''] = got.url.split('?') as [string, string?];
  assert.equal(gotQuery ? `?${gotQuery}` : '', url.search, 'query');
  // With upstream_path, the test's upstream_url (the fake's address) drops the base path a default URL
  // has (Azure's deployment prefix): then the operation path must end the expected one.
  if (c.input.options?.upstream_path) assert.ok(url.pathname.endsWith(gotPath), `path ${gotPath} ends ${url.pathname}`);
  else assert.equal(gotPath, url.pathname, 'path');
  for (const [k, v] of Object.entries(exp.headers ?? {})) {
    // Host and SigV4 values depend on the fake's address and the clock: their shape is checked by
    // spec/providers*.test.ts; here only that they are there.
    const signed = k === 'x-amz-date' || (k === 'authorization' && v.includes('AWS4-HMAC-SHA256'));
    if ((k === 'host' || signed) && v !== '~^$') {
      assert.ok(got.headers[k], `header ${k}`);
      continue;
    }
    if (v.startsWith('~')) assert.match(String(got.headers[k] ?? ''), new RegExp(v.slice(1)), `header ${k}`);
    else assert.equal(got.headers[k], v, `header ${k}`);
  }
  if (exp.body !== undefined) {
    if (typeof exp.body === 'string') assert.equal(got.body, exp.body);
    else assert.deepEqual(JSON.parse(got.body), exp.body);
  }
}

test('provider fixtures: which cases run end to end', () => {
  const skipped = all.filter((c) => !runnable(c)).map((c) => `${c.provider}/${c.name}`);
  if (skipped.length > 0) process.stderr.write(`# route type not served (skipped end to end): ${skipped.join(', ')}\n`);
  assert.ok(cases.length > 0);
});

for (const c of all) {
  const id = `${c.provider}/${c.name}`;
  const skip = runnable(c) ? false : `provider ${c.provider} (${c.input.route_type}) is not served`;
  const stream = c.stream() !== undefined;

  if (c.has('response.json')) {
    test(`${id}: answer through Kong and the relay`, { skip }, async () => {
      const r = await call(c, 'response', false);
      assert.equal(r.res.status, 200, r.text);
      assert.match(r.res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(r.res.headers.get('set-cookie'), null, 'Set-Cookie never reaches the client');
      assert.equal(r.res.headers.get('x-kong-llm-model'), `${c.provider}/${c.input.model}`);
      assert.deepEqual(normalise(JSON.parse(r.text), r.requestId), normalise(c.json('expected.json'), 'test-request-id'));
      checkUpstream(c, r.upstream);
    });
  }

  if (stream) {
    test(`${id}: stream through Kong and the relay`, { skip }, async () => {
      const r = await call(c, 'stream', true);
      assert.equal(r.res.status, 200, r.text);
      assert.equal(r.res.headers.get('content-type'), 'text/event-stream');
      assert.equal(r.res.headers.get('set-cookie'), null);
      assert.ok(r.text.endsWith('data: [DONE]\n\n'), r.text.slice(-200));
      assert.deepEqual(normalise(sseDataValues(r.text), r.requestId), normalise(c.expectedStream(), 'test-request-id'));
      checkUpstream(c, r.upstream);
    });
  }

  if (c.has('error.json')) {
    test(`${id}: provider error through Kong and the relay`, { skip }, async () => {
      const e = c.json('error.json') as { expected: { status: number; body: unknown } };
      const r = await call(c, 'error', stream);
      assert.equal(r.res.status, e.expected.status, r.text);
      assert.match(r.res.headers.get('content-type') ?? '', /^application\/json/, 'an error is JSON, also for a stream request');
      assert.equal(r.res.headers.get('set-cookie'), null);
      assert.deepEqual(normalise(JSON.parse(r.text), r.requestId), normalise(e.expected.body, 'test-request-id'));
    });
  }

  if (!c.has('response.json') && !stream && c.has('upstream-request.json')) {
    test(`${id}: request reaches the provider as translated`, { skip }, async () => {
      const r = await call(c, 'canned', c.input.stream ?? false);
      checkUpstream(c, r.upstream);
      if (c.input.route_type === 'preserve') {
        assert.equal(r.res.status, 200, r.text);
        assert.deepEqual(JSON.parse(r.text), { canned: true, case: id }, 'preserve passes the answer through untouched');
      }
    });
  }
}
