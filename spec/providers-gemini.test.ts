// Gemini / Vertex AI behaviour the fixture walker cannot express: the GCP service-account token exchange
// (against a local fake token endpoint that checks the signed assertion, with a throwaway RSA key), its
// cache, requests refused with a TranslationError, the stream end rule and schema corner cases. No
// network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { geminiProvider } from '../shared/providers/gemini';
import { clearGcpTokenCache, GcpCredentialError } from '../shared/providers/gemini/gcp-token';
import { toGeminiSchema } from '../shared/providers/gemini/schema';
import { TranslationError, UpstreamFormatError, type TargetContext } from '../shared/providers/core/types';
import type { OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor, type CaseInput } from './support/provider-case';

const VERTEX = { api_endpoint: 'us-central1-aiplatform.googleapis.com', project_id: 'acme-ml-prod', location_id: 'us-central1' };
const CHAT = { messages: [{ role: 'user', content: 'Hi' }] } as OpenAIRequestBody;

function ctx(over: Partial<CaseInput> = {}): TargetContext {
  return contextFor('gemini', { route_type: 'llm/v1/chat', model: 'gemini-2.5-flash', request: CHAT, ...over });
}

// ---- a fake OAuth2 token endpoint ----

interface TokenServer {
  url: string;
  exchanges: number;
  assertions: Array<{ header: Record<string, unknown>; claims: Record<string, unknown> }>;
  /** What the next exchanges answer. */
  reply: { status: number; body: unknown };
  close(): Promise<void>;
}

function b64urlJson(s: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function tokenServer(publicKeyPem: string): Promise<TokenServer> {
  const state = {
    exchanges: 0,
    assertions: [] as TokenServer['assertions'],
    reply: { status: 200, body: { access_token: 'ya29.fake-token-1', expires_in: 3599, token_type: 'Bearer' } as unknown },
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      state.exchanges++;
      const form = new URLSearchParams(body);
      const jwt = form.get('assertion') ?? '';
      const [h = '', p = '', sig = ''] = jwt.split('.');
      const verify = createVerify('RSA-SHA256');
      verify.update(`${h}.${p}`);
      const ok = req.method === 'POST' && req.url === '/token'
        && form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer'
        && verify.verify(publicKeyPem, Buffer.from(sig, 'base64url'));
      if (!ok) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }));
        return;
      }
      state.assertions.push({ header: b64urlJson(h), claims: b64urlJson(p) });
      res.writeHead(state.reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state.reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/token`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as TokenServer;
}

function serviceAccount(tokenUri: string, email = 'gateway@acme-ml-prod.iam.gserviceaccount.com') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const json = JSON.stringify({
    type: 'service_account', project_id: 'acme-ml-prod', private_key_id: 'k1', private_key: privateKey,
    client_email: email, client_id: '1234567890', token_uri: tokenUri,
  });
  return { json, publicKey, privateKey };
}

test('Vertex AI with a service account: token from the token endpoint, cached, shared, refreshed before expiry', async (t) => {
  clearGcpTokenCache();
  // The key pair comes first; the server that verifies with it, second.
  const sa0 = serviceAccount('http://127.0.0.1:1/token');
  const srv = await tokenServer(sa0.publicKey);
  t.after(() => srv.close());
  const json = JSON.stringify({ ...JSON.parse(sa0.json) as object, token_uri: srv.url });
  const c = ctx({ options: { gemini: VERTEX }, auth: { gcp_use_service_account: true, gcp_service_account_json: json } });

  const req = await buildRequest(geminiProvider, structuredClone(CHAT), c);
  assert.equal(req.headers.authorization, 'Bearer ya29.fake-token-1');
  assert.equal(req.url, 'https://us-central1-aiplatform.googleapis.com/v1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
  assert.equal(srv.exchanges, 1);
  const { claims, header } = srv.assertions[0]!;
  assert.equal(header.alg, 'RS256');
  assert.equal(claims.iss, 'gateway@acme-ml-prod.iam.gserviceaccount.com');
  assert.equal(claims.scope, 'https://www.googleapis.com/auth/cloud-platform');
  assert.equal(claims.aud, 'https://oauth2.googleapis.com/token');
  assert.equal(Number(claims.exp) - Number(claims.iat), 3600);

  // Cached: more requests, concurrent ones included, no new exchange.
  await buildRequest(geminiProvider, structuredClone(CHAT), c);
  await Promise.all([1, 2, 3, 4].map(() => buildRequest(geminiProvider, structuredClone(CHAT), c)));
  assert.equal(srv.exchanges, 1);

  // A token that expires within the refresh margin is not reused.
  clearGcpTokenCache();
  srv.reply = { status: 200, body: { access_token: 'ya29.short-lived', expires_in: 120, token_type: 'Bearer' } };
  assert.equal((await buildRequest(geminiProvider, structuredClone(CHAT), c)).headers.authorization, 'Bearer ya29.short-lived');
  srv.reply = { status: 200, body: { access_token: 'ya29.fake-token-2', expires_in: 3599, token_type: 'Bearer' } };
  assert.equal((await buildRequest(geminiProvider, structuredClone(CHAT), c)).headers.authorization, 'Bearer ya29.fake-token-2');
  assert.equal(srv.exchanges, 3);
});

test('service account from the GCP_SERVICE_ACCOUNT variable; concurrent first requests share one exchange', async (t) => {
  clearGcpTokenCache();
  const sa0 = serviceAccount('http://127.0.0.1:1/token', 'env-sa@acme-ml-prod.iam.gserviceaccount.com');
  const srv = await tokenServer(sa0.publicKey);
  t.after(() => srv.close());
  const json = JSON.stringify({ ...JSON.parse(sa0.json) as object, token_uri: srv.url });
  const c = ctx({ auth: { gcp_use_service_account: true }, env: { GCP_SERVICE_ACCOUNT: json } });
  const reqs = await Promise.all([1, 2, 3].map(() => buildRequest(geminiProvider, structuredClone(CHAT), c)));
  for (const r of reqs) assert.equal(r.headers.authorization, 'Bearer ya29.fake-token-1');
  assert.equal(srv.exchanges, 1);
  // The Gemini API (not Vertex) takes the same bearer token.
  assert.equal(reqs[0]!.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal(srv.assertions[0]!.claims.iss, 'env-sa@acme-ml-prod.iam.gserviceaccount.com');
});

test('a rejected token exchange fails with the endpoint\'s reason and never the key', async (t) => {
  clearGcpTokenCache();
  const wrong = serviceAccount('http://127.0.0.1:1/token');
  const other = serviceAccount('http://127.0.0.1:1/token');
  const srv = await tokenServer(other.publicKey); // verifies with a different key: the signature is wrong
  t.after(() => srv.close());
  const json = JSON.stringify({ ...JSON.parse(wrong.json) as object, token_uri: srv.url });
  const c = ctx({ options: { gemini: VERTEX }, auth: { gcp_use_service_account: true, gcp_service_account_json: json } });
  await assert.rejects(buildRequest(geminiProvider, structuredClone(CHAT), c), (e: unknown) => {
    assert.ok(e instanceof GcpCredentialError);
    assert.match(e.message, /invalid_grant/);
    assert.ok(!e.message.includes('PRIVATE KEY'));
    return true;
  });
  assert.equal(srv.exchanges, 1);
});

test('unusable service accounts are refused before any exchange', async () => {
  clearGcpTokenCache();
  const remoteHttp = serviceAccount('http://token.example.com/token');
  const cases: Array<[Partial<CaseInput>, RegExp]> = [
    [{ auth: { gcp_use_service_account: true } }, /neither auth.gcp_service_account_json nor the GCP_SERVICE_ACCOUNT/],
    [{ auth: { gcp_use_service_account: true, gcp_service_account_json: '{not json' } }, /not valid JSON/],
    [{ auth: { gcp_use_service_account: true, gcp_service_account_json: '{"client_email":"x@y"}' } }, /lacks client_email or private_key/],
    [{ auth: { gcp_use_service_account: true, gcp_service_account_json: remoteHttp.json } }, /token_uri must be an https URL/],
  ];
  for (const [over, message] of cases) {
    await assert.rejects(buildRequest(geminiProvider, structuredClone(CHAT), ctx(over)), (e: unknown) => {
      assert.ok(e instanceof GcpCredentialError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});

// ---- requests refused ----

async function refused(body: unknown, message: RegExp, over: Partial<CaseInput> = {}): Promise<void> {
  await assert.rejects(buildRequest(geminiProvider, body as OpenAIRequestBody, ctx(over)), (e: unknown) => {
    assert.ok(e instanceof TranslationError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

test('requests Gemini cannot take are refused with a TranslationError naming the problem', async () => {
  await refused({ messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_unknown', content: '1' }] },
    /tool_call_id 'call_unknown', which no earlier assistant message called/);
  await refused({ messages: [{ role: 'user', content: [{ type: 'video_url', video_url: 'x' }] }] },
    /cannot transform part of type 'video_url' to Gemini format/);
  await refused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] },
    /data URI or an http\(s\) or gs:\/\/ URL/);
  await refused({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [
    { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }] }, /arguments are not valid JSON/);
  await refused({ messages: [{ role: 'system', content: 'only a system prompt' }] }, /no user or assistant content/);
  await refused({ messages: [{ role: 'user', content: 'x' }], tool_choice: 'sometimes' }, /tool_choice must be/);
  await refused({ messages: [{ role: 'user', content: 'x' }] }, /partner model 'claude-sonnet-4@20250514'/,
    { model: 'claude-sonnet-4@20250514', options: { gemini: VERTEX } });
  await refused({ input: [[1, 2, 3]] }, /token arrays/, { route_type: 'llm/v1/embeddings', model: 'gemini-embedding-001' });
});

test('a tool result keeps its own function name (looked up by tool_call_id), not a fixed one', async () => {
  const req = await buildRequest(geminiProvider, {
    messages: [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'a', type: 'function', function: { name: 'lookup_order', arguments: '{"id":7}' } },
        { id: 'b', type: 'function', function: { name: 'lookup_customer', arguments: '' } }] },
      { role: 'tool', tool_call_id: 'b', content: '[1,2]' },
      { role: 'tool', tool_call_id: 'a', content: 'shipped' },
    ],
  } as OpenAIRequestBody, ctx());
  const body = JSON.parse(req.body) as { contents: Array<{ role: string; parts: unknown[] }> };
  assert.deepEqual(body.contents[1]!.parts, [
    { functionCall: { name: 'lookup_order', args: { id: 7 } } },
    { functionCall: { name: 'lookup_customer', args: {} } },
  ]);
  assert.deepEqual(body.contents[2], { role: 'user', parts: [
    { functionResponse: { name: 'lookup_customer', response: { output: [1, 2] } } },
    { functionResponse: { name: 'lookup_order', response: { output: 'shipped' } } },
  ] });
});

// ---- streams ----

function events(...objs: unknown[]) {
  return objs.map((o) => ({ data: JSON.stringify(o) }));
}

test('a stream must end after a finishReason for every candidate it started', () => {
  const c = ctx({ stream: true });
  const part = { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 } };
  const done = { candidates: [{ content: { role: 'model', parts: [{ text: 'lo' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } };

  const cut = geminiProvider.streamTranslator(c);
  for (const e of events(part)) cut.push(e);
  assert.throws(() => cut.end(), (e: unknown) => e instanceof UpstreamFormatError && /before candidate 0 finished/.test(e.message));
  assert.deepEqual(cut.usage(), { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });

  const empty = geminiProvider.streamTranslator(c);
  assert.throws(() => empty.end(), UpstreamFormatError);

  const whole = geminiProvider.streamTranslator(c);
  for (const e of events(part, done)) whole.push(e);
  // Usage is cumulative in Gemini streams: the last counts replace the earlier ones.
  assert.deepEqual(whole.end().usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });

  const two = geminiProvider.streamTranslator(c);
  two.push({ data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] }, index: 0 }, { content: { parts: [{ text: 'b' }] }, finishReason: 'STOP', index: 1 }] }) });
  two.push({ data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'c' }] }, index: 0 }] }) });
  assert.throws(() => two.end(), /candidate 0/);
});

// ---- schemas ----

test('schema conversion: recursive $ref, allOf, nested empty objects, typeless enums', () => {
  const out = toGeminiSchema({
    type: 'object',
    $defs: { Node: { type: 'object', properties: { value: { type: 'integer', format: 'int32' }, next: { $ref: '#/$defs/Node' } } } },
    properties: {
      head: { $ref: '#/$defs/Node' },
      both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'number', exclusiveMinimum: 0 } } }] },
      empty: { type: 'object', properties: {} },
      level: { enum: [1, 2, null] },
      list: { type: 'array' },
    },
  });
  assert.deepEqual(out, {
    type: 'object',
    properties: {
      head: { type: 'object', properties: { value: { type: 'integer', format: 'int32' }, next: { type: 'object' } } },
      both: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'] },
      empty: { type: 'object' },
      level: { type: 'string', enum: ['1', '2'], nullable: true },
      list: { type: 'array', items: { type: 'string' } },
    },
  });
});
