// Bedrock beyond the fixtures (spec/fixtures/providers/bedrock): the SigV4 signature checked against an
// independent implementation written here with node:crypto (itself checked against AWS's published
// get-vanilla vector), region and credential resolution, and the inputs the translation refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { bedrockProvider } from '../shared/providers/bedrock';
import { signRequest } from '../shared/providers/bedrock/sigv4';
import { CredentialError, ProviderStreamError, TranslationError, UpstreamFormatError, type TargetContext, type UpstreamRequest } from '../shared/providers/core/types';
import type { OpenAIRequestBody } from '../shared/openai/types';
import { buildRequest } from './support/build-request';
import { contextFor, type CaseInput } from './support/provider-case';

// ---------------------------------------------------------------------------------------------------
// An independent SigV4 (AWS "Create a signed AWS API request"): no code shared with the signer under test.

function uriEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

interface Sig { canonicalRequest: string; stringToSign: string; authorization: string }

/**
 * `path` and `rawQuery` exactly as sent on the wire. Every path segment is encoded once more (non-S3
 * services: the canonical URI of `/model/a%3A0` is `/model/a%253A0`); query keys and values are decoded
 * and re-encoded, then sorted; every header given is signed.
 */
function referenceSigV4(o: {
  method: string; path: string; rawQuery: string; headers: Record<string, string>; payloadHash: string;
  accessKeyId: string; secret: string; region: string; service: string; amzDate: string;
}): Sig {
  const canonicalUri = o.path.split('/').map(uriEncode).join('/');
  const canonicalQuery = o.rawQuery === '' ? '' : o.rawQuery.split('&').map((p) => {
    const [k, v = ''] = p.split('=');
    return [uriEncode(decodeURIComponent(k!)), uriEncode(decodeURIComponent(v))] as const;
  }).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
  const names = Object.keys(o.headers).map((h) => h.toLowerCase()).sort();
  const value = (n: string) => Object.entries(o.headers).find(([k]) => k.toLowerCase() === n)![1].trim().replace(/\s+/g, ' ');
  const canonicalHeaders = names.map((n) => `${n}:${value(n)}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [o.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, o.payloadHash].join('\n');
  const day = o.amzDate.slice(0, 8);
  const scope = `${day}/${o.region}/${o.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', o.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${o.secret}`, day), o.region), o.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    canonicalRequest, stringToSign,
    authorization: `AWS4-HMAC-SHA256 Credential=${o.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** The reference signature of a request as our provider built it (every header but authorization signed). */
function expectedAuthorization(req: UpstreamRequest, creds: { id: string; secret: string }, region: string): string {
  const u = new URL(req.url);
  const rawQuery = u.search.replace(/^\?/, '');
  const { authorization: _a, ...signed } = req.headers;
  return referenceSigV4({
    method: req.method, path: u.pathname, rawQuery, headers: signed, payloadHash: sha256Hex(req.body),
    accessKeyId: creds.id, secret: creds.secret, region, service: 'bedrock', amzDate: '20231114T221320Z',
  }).authorization;
}

test('the reference SigV4 reproduces AWS\'s published get-vanilla vector', () => {
  const sig = referenceSigV4({
    method: 'GET', path: '/', rawQuery: '', headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' },
    payloadHash: sha256Hex(''), accessKeyId: 'AKIDEXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    region: 'us-east-1', service: 'service', amzDate: '20150830T123600Z',
  });
  assert.equal(sig.stringToSign.split('\n')[3], 'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
  assert.equal(sig.authorization, 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, '
    + 'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});

// ---------------------------------------------------------------------------------------------------

const KEYS = { id: 'AKIAIOSFODNN7EXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const CHAT = { messages: [{ role: 'user', content: 'Hello' }] } as OpenAIRequestBody;

function ctx(over: Partial<CaseInput> = {}): TargetContext {
  return contextFor('bedrock', {
    route_type: 'llm/v1/chat', model: 'anthropic.claude-3-haiku-20240307-v1:0', request: CHAT,
    options: { bedrock: { aws_region: 'us-east-1' } },
    auth: { aws_access_key_id: KEYS.id, aws_secret_access_key: KEYS.secret },
    ...over,
  });
}

const build = (c: TargetContext, body: OpenAIRequestBody = CHAT) => buildRequest(bedrockProvider, structuredClone(body), c);

test('the signature of a Converse request matches the reference computation (model id encoded twice in the canonical URI)', async () => {
  const req = await build(ctx());
  assert.equal(new URL(req.url).pathname, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
  assert.equal(req.headers['x-amz-date'], '20231114T221320Z');
  assert.equal(req.headers['x-amz-content-sha256'], sha256Hex(req.body));
  assert.equal(req.headers.host, 'bedrock-runtime.us-east-1.amazonaws.com');
  assert.equal(req.headers.authorization, expectedAuthorization(req, KEYS, 'us-east-1'));
  assert.match(req.headers.authorization!, /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, /);
});

test('a signature over a different body, path or date would differ (the comparison can fail)', async () => {
  const req = await build(ctx());
  assert.notEqual(req.headers.authorization, expectedAuthorization({ ...req, body: `${req.body} ` }, KEYS, 'us-east-1'));
  assert.notEqual(req.headers.authorization,
    expectedAuthorization({ ...req, url: req.url.replace('%3A', ':') }, KEYS, 'us-east-1'));
  const later = await build({ ...ctx(), now: () => 1700000001 });
  assert.notEqual(later.headers.authorization, req.headers.authorization);
});

test('a session token from the environment is sent and signed', async () => {
  const token = 'IQoJb3JpZ2luX2VjEXAMPLE//token+value=';
  const c = ctx({ auth: null, env: { AWS_ACCESS_KEY_ID: 'ASIAY34FZKBOKMUTVV7A', AWS_SECRET_ACCESS_KEY: KEYS.secret, AWS_SESSION_TOKEN: token } });
  const req = await build(c);
  assert.equal(req.headers['x-amz-security-token'], token);
  assert.match(req.headers.authorization!, /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, /);
  assert.equal(req.headers.authorization, expectedAuthorization(req, { id: 'ASIAY34FZKBOKMUTVV7A', secret: KEYS.secret }, 'us-east-1'));
});

test('a streamed call, an upstream_url with a port and a configured query credential are signed as sent', async () => {
  const c = ctx({
    stream: true,
    options: { bedrock: { aws_region: 'eu-west-3' }, upstream_url: 'http://127.0.0.1:9000/model/x/converse' },
    auth: { aws_access_key_id: KEYS.id, aws_secret_access_key: KEYS.secret, param_name: 'gw key', param_value: 'a b+c/d*', param_location: 'query' },
  });
  const req = await build(c);
  assert.equal(req.url, 'http://127.0.0.1:9000/model/x/converse-stream?gw%20key=a%20b%2Bc%2Fd%2A');
  assert.equal(req.headers.host, '127.0.0.1:9000');
  assert.equal(req.headers.authorization, expectedAuthorization(req, KEYS, 'eu-west-3'));
});

test('signRequest replaces stale signing headers and keeps names lower-case', async () => {
  const req = await signRequest({
    method: 'POST', url: 'https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse',
    headers: { 'Content-Type': 'application/json', 'X-Amz-Date': '19990101T000000Z', Authorization: 'stale' }, body: '{}',
  }, { region: 'us-east-1', service: 'bedrock', credentials: { accessKeyId: KEYS.id, secretAccessKey: KEYS.secret }, date: new Date(1700000000 * 1000) });
  assert.deepEqual(Object.keys(req.headers).sort(), ['authorization', 'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date']);
  assert.equal(req.headers['x-amz-date'], '20231114T221320Z');
  assert.equal(req.headers.authorization, expectedAuthorization(req, KEYS, 'us-east-1'));
});

// ---------------------------------------------------------------------------------------------------
// Region and credentials

test('region: options, then AWS_REGION, then AWS_DEFAULT_REGION; none is a clear CredentialError', async () => {
  const host = async (options: CaseInput['options'], env: Record<string, string>) =>
    new URL((await build(ctx({ options, env }))).url).host;
  assert.equal(await host({ bedrock: { aws_region: 'ap-south-1' } }, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-1' }),
    'bedrock-runtime.ap-south-1.amazonaws.com');
  assert.equal(await host({}, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-1' }), 'bedrock-runtime.us-east-2.amazonaws.com');
  assert.equal(await host({ bedrock: { aws_region: null } }, { AWS_DEFAULT_REGION: 'us-west-1' }), 'bedrock-runtime.us-west-1.amazonaws.com');
  await assert.rejects(build(ctx({ options: {}, env: {} })),
    (e: Error) => e instanceof CredentialError && /AWS region not specified/.test(e.message) && /aws_region/.test(e.message));
  // The region is also needed to sign a call to an upstream_url.
  await assert.rejects(build(ctx({ options: { upstream_url: 'https://proxy.example/model/m/converse' }, env: {} })), CredentialError);
});

test('credentials: config keys win over the environment; none at all (fixed env) is a CredentialError', async () => {
  const env = { AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENTKEY00', AWS_SECRET_ACCESS_KEY: 'environment-secret-key-example' };
  const fromConfig = await build(ctx({ env }));
  assert.match(fromConfig.headers.authorization!, /Credential=AKIAIOSFODNN7EXAMPLE\//);
  const fromEnv = await build(ctx({ auth: null, env }));
  assert.match(fromEnv.headers.authorization!, /Credential=AKIAENVIRONMENTKEY00\//);
  assert.equal(fromEnv.headers.authorization, expectedAuthorization(fromEnv, { id: env.AWS_ACCESS_KEY_ID, secret: env.AWS_SECRET_ACCESS_KEY }, 'us-east-1'));
  await assert.rejects(build(ctx({ auth: null, env: {} })), (e: Error) => e instanceof CredentialError && /no AWS credentials/.test(e.message));
  await assert.rejects(build(ctx({ auth: { aws_access_key_id: KEYS.id }, env })), CredentialError);
});

test('a configured Authorization header (Bedrock API key) is sent as is and nothing is signed', async () => {
  const req = await build(ctx({ auth: { header_name: 'Authorization', header_value: 'Bearer ABSKexampleexampleexample' } }));
  assert.equal(req.headers.authorization, 'Bearer ABSKexampleexampleexample');
  assert.equal(req.headers['x-amz-date'], undefined);
  assert.equal(req.headers['x-amz-content-sha256'], undefined);
});

// ---------------------------------------------------------------------------------------------------
// What the translation refuses

const chatWith = (messages: unknown[], extra: Record<string, unknown> = {}) => ({ messages, ...extra }) as unknown as OpenAIRequestBody;

test('an image by http URL is refused (Converse takes bytes only); unsupported image types too', async () => {
  const url = (u: string) => chatWith([{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: u } }] }]);
  await assert.rejects(build(ctx(), url('https://example.com/cat.png')),
    (e: Error) => e instanceof TranslationError && /bytes only/.test(e.message) && /data URI/.test(e.message));
  await assert.rejects(build(ctx(), url('data:image/tiff;base64,SUkqAA==')), (e: Error) => e instanceof TranslationError && /tiff/.test(e.message));
  const ok = await build(ctx(), url('data:image/jpeg;base64,/9j/4AAQSkZJRg=='));
  assert.deepEqual(JSON.parse(ok.body).messages[0].content[1], { image: { format: 'jpeg', source: { bytes: '/9j/4AAQSkZJRg==' } } });
});

test('tool call arguments must be a JSON object; a tool message needs its tool_call_id; n > 1 is refused', async () => {
  const call = (args: string) => chatWith([
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'f', arguments: args } }] },
  ], { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }] });
  await assert.rejects(build(ctx(), call('{"a":')), (e: Error) => e instanceof TranslationError && /not valid JSON/.test(e.message));
  await assert.rejects(build(ctx(), call('[1,2]')), (e: Error) => e instanceof TranslationError && /JSON object/.test(e.message));
  const empty = JSON.parse((await build(ctx(), call(''))).body);
  assert.deepEqual(empty.messages[1].content, [{ toolUse: { toolUseId: 'tooluse_1', name: 'f', input: {} } }]);
  await assert.rejects(build(ctx(), chatWith([{ role: 'tool', content: '1' }])), TranslationError);
  await assert.rejects(build(ctx(), chatWith([{ role: 'user', content: 'Hi' }], { n: 2 })), TranslationError);
});

test('embeddings: Titan takes one input, other families are refused', async () => {
  const emb = (model: string, input: unknown) => build(ctx({ route_type: 'llm/v1/embeddings', model }), { input } as OpenAIRequestBody);
  await assert.rejects(emb('amazon.titan-embed-text-v2:0', ['a', 'b']), (e: Error) => e instanceof TranslationError && /one input/.test(e.message));
  await assert.rejects(emb('amazon.nova-2-multimodal-embeddings-v1:0', 'a'), (e: Error) => e instanceof TranslationError && /Titan/.test(e.message));
  await assert.rejects(emb('cohere.embed-english-v3', [[1, 2, 3]]), TranslationError);
});

// ---------------------------------------------------------------------------------------------------
// Streams

const ev = (event: string, payload: unknown) => ({ event, data: JSON.stringify(payload) });

test('a stream without messageStop or metadata ends with an UpstreamFormatError', () => {
  const t1 = bedrockProvider.streamTranslator(ctx({ stream: true }));
  t1.push(ev('messageStart', { role: 'assistant' }));
  t1.push(ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }));
  assert.throws(() => t1.end(), UpstreamFormatError);
  const t2 = bedrockProvider.streamTranslator(ctx({ stream: true }));
  t2.push(ev('messageStart', { role: 'assistant' }));
  t2.push(ev('messageStop', { stopReason: 'end_turn' }));
  assert.throws(() => t2.end(), /metadata/);
  t2.push(ev('metadata', { usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } }));
  assert.deepEqual(t2.end().usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
});

test('a toolUse delta without its contentBlockStart is an error, not a silent loss', () => {
  const t = bedrockProvider.streamTranslator(ctx({ stream: true }));
  assert.throws(() => t.push(ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":' } } })), UpstreamFormatError);
});

test('stream exceptions keep their HTTP status', () => {
  const cases: Array<[string, number, string]> = [
    ['throttlingException', 429, 'rate_limit_error'], ['validationException', 400, 'invalid_request_error'],
    ['modelStreamErrorException', 424, 'server_error'], ['internalServerException', 500, 'server_error'],
    ['serviceUnavailableException', 503, 'server_error'], ['somethingNewException', 500, 'server_error'],
  ];
  for (const [name, status, type] of cases) {
    const t = bedrockProvider.streamTranslator(ctx({ stream: true }));
    assert.throws(() => t.push({ event: name, data: JSON.stringify({ message: `boom ${name}` }), exception: true }), (e: Error) => {
      assert.ok(e instanceof ProviderStreamError);
      assert.equal(e.error.status, status, name);
      assert.equal(e.error.body.error.type, type, name);
      assert.equal(e.error.body.error.message, `boom ${name}`);
      return true;
    });
  }
});

test('errors never echo an access key id or a session token', () => {
  const e = bedrockProvider.parseError(403, {
    message: 'The Canonical String for this request should have been POST /model/m/converse x-amz-security-token:FwoGZXIvYXdzEXAMPLE\n'
      + 'Credential=ASIAY34FZKBOKMUTVV7A/20231114/us-east-1/bedrock/aws4_request',
  }, ctx({ auth: null, env: {} }));
  assert.doesNotMatch(e.body.error.message, /FwoGZXIvYXdzEXAMPLE|ASIAY34FZKBOKMUTVV7A/);
  assert.equal(e.status, 403);
});
