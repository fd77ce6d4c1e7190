// Microsoft Entra ID for the azure provider (auth.azure_use_managed_identity): which credential the
// fields and AZURE_* variables select, the configurations refused, how tokens are kept, shared and cut
// off; and, through Kong's side and the real plugin server, an app registration's client secret against
// a local HTTPS authority and App Service's managed identity endpoint, each token reaching a fake Azure
// OpenAI as a Bearer, fetched once, a failure answered as Kong does, and no secret anywhere.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { Plugin as AiProxy } from '../plugins/ai-proxy';
import { Plugin as AiProxyAdvanced } from '../plugins/ai-proxy-advanced';
import { modelChecks } from '../shared/llm/config-fields';
import { azureProvider } from '../shared/providers/azure';
import { azureEntraConfigProblem, selectAzureEntraIdentity, type AzureEntraIdentity, type EntraAuthFields } from '../shared/providers/azure/entra-identity';
import { AzureCredentialError, AzureEntraTokenSource, REFRESH_MARGIN_MS } from '../shared/providers/azure/entra-token';
import { CredentialError } from '../shared/providers/core/types';
import { sharedRelay } from '../shared/relay/server';
import { ScriptedProvider } from './fakes/scripted-provider';
import { buildRequest } from './support/build-request';
import { FakeAppServiceIdentity, FakeEntraAuthority, makeTestCertificate } from './support/fake-entra';
import { contextFor } from './support/provider-case';
import { postJson, startTestGateway, type TestGateway } from './support/test-gateway';
import { refusalOf } from './support/refusal';

const SECRET = 'entra-app-secret~0123456789abcdefXYZ';
const REVOKED_SECRET = 'entra-revoked-secret~fedcba9876543210';
const IDENTITY_HEADER = 'app-service-identity-header-5f2c9a7e';
const API_KEY = 'azure-api-key-00112233445566778899';
/** Azure OpenAI's token audience (written out: the module's own constant would follow a mistake in it). */
const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';

after(async () => {
  await sharedRelay('ai-proxy').close();
  await sharedRelay('ai-proxy-advanced').close();
});

const entra = (fields: Partial<EntraAuthFields> = {}): EntraAuthFields => ({
  azure_use_managed_identity: true, azure_client_id: null, azure_client_secret: null, azure_tenant_id: null, ...fields,
});

test('credential selection: all three make an app registration, a client id alone a user-assigned identity, nothing the system one', () => {
  const cases: Array<[string, Partial<EntraAuthFields>, Record<string, string>, AzureEntraIdentity | string]> = [
    ['all three in the config', { azure_client_id: 'c', azure_client_secret: SECRET, azure_tenant_id: 't' }, {},
      { kind: 'client-secret', clientId: 'c', clientSecret: SECRET, tenantId: 't' }],
    ['all three from the environment', {}, { AZURE_CLIENT_ID: 'ec', AZURE_CLIENT_SECRET: SECRET, AZURE_TENANT_ID: 'et' },
      { kind: 'client-secret', clientId: 'ec', clientSecret: SECRET, tenantId: 'et' }],
    ['the config wins field by field', { azure_client_id: 'c' }, { AZURE_CLIENT_ID: 'ec', AZURE_CLIENT_SECRET: SECRET, AZURE_TENANT_ID: 'et' },
      { kind: 'client-secret', clientId: 'c', clientSecret: SECRET, tenantId: 'et' }],
    ['a secret in the config, the rest from the environment', { azure_client_secret: SECRET }, { AZURE_CLIENT_ID: 'ec', AZURE_TENANT_ID: 'et' },
      { kind: 'client-secret', clientId: 'ec', clientSecret: SECRET, tenantId: 'et' }],
    ['a client id in the config', { azure_client_id: 'uami' }, {}, { kind: 'user-assigned-managed-identity', clientId: 'uami' }],
    ['a client id from the environment', {}, { AZURE_CLIENT_ID: 'uami' }, { kind: 'user-assigned-managed-identity', clientId: 'uami' }],
    ['client and tenant ids from the environment (AKS): a managed identity', {}, { AZURE_CLIENT_ID: 'uami', AZURE_TENANT_ID: 'et' },
      { kind: 'user-assigned-managed-identity', clientId: 'uami' }],
    ['an incomplete set of variables is not a credential', {}, { AZURE_CLIENT_ID: 'uami', AZURE_CLIENT_SECRET: SECRET },
      { kind: 'user-assigned-managed-identity', clientId: 'uami' }],
    ['nothing', {}, {}, { kind: 'system-assigned-managed-identity' }],
    ['blank fields count as unset', { azure_client_id: ' ', azure_client_secret: '' }, { AZURE_TENANT_ID: '' }, { kind: 'system-assigned-managed-identity' }],
    ['a configured secret without the rest', { azure_client_secret: SECRET }, {}, 'azure_client_secret'],
    ['a configured secret without a tenant', { azure_client_id: 'c', azure_client_secret: SECRET }, {}, 'azure_client_secret'],
    ['a configured tenant without a secret', { azure_client_id: 'c', azure_tenant_id: 't' }, {}, 'azure_tenant_id'],
  ];
  for (const [name, fields, env, expected] of cases) {
    const s = selectAzureEntraIdentity(entra(fields), env);
    if (typeof expected === 'string') {
      assert.equal(s.ok, false, name);
      assert.equal(!s.ok && s.field, expected, name);
      assert.ok(!s.ok && !s.reason.includes(SECRET), `${name}: the reason names no secret`);
    } else {
      assert.deepEqual(s, { ok: true, identity: expected }, name);
    }
  }
});

const azureTarget = (auth: Record<string, unknown>, provider = 'azure') => ({
  route_type: 'llm/v1/chat', auth, logging: { log_statistics: false, log_payloads: false },
  model: { provider, name: 'gpt-4o', options: provider === 'azure' ? { azure_instance: 'contoso', azure_deployment_id: 'gpt-4o' } : {} },
});


/** Runs `f` with no AZURE_* variable in this process (the configuration checks read process.env). */
function withoutAzureEnv<T>(f: () => T): T {
  const saved = Object.entries(process.env).filter(([k]) => k.startsWith('AZURE_'));
  for (const [k] of saved) delete process.env[k];
  try {
    return f();
  } finally {
    for (const [k, v] of saved) process.env[k] = v;
  }
}

test('configuration: Entra ID fields that cannot work are refused, naming the field', () => withoutAzureEnv(() => {
  const proxy = (auth: Record<string, unknown>, provider?: string) => refusalOf(() => new AiProxy(azureTarget(auth, provider)));
  assert.match(proxy({ azure_client_id: 'c' }), /auth\.azure_client_id: used only with auth\.azure_use_managed_identity = true/);
  assert.match(proxy({ azure_client_secret: SECRET, header_name: 'api-key', header_value: API_KEY }), /auth\.azure_client_secret: used only with auth\.azure_use_managed_identity = true/);
  assert.match(proxy({ azure_use_managed_identity: false, azure_tenant_id: 't' }), /auth\.azure_tenant_id: used only with/);
  assert.match(proxy({ azure_use_managed_identity: true }, 'openai'), /auth\.azure_use_managed_identity: Entra ID authentication is for the azure provider only/);
  assert.match(proxy({ azure_use_managed_identity: true, azure_client_secret: SECRET }),
    /auth\.azure_client_secret: .*needs a client id \(auth\.azure_client_id or AZURE_CLIENT_ID\) and a tenant id \(auth\.azure_tenant_id or AZURE_TENANT_ID\)/);
  const noTenant = proxy({ azure_use_managed_identity: true, azure_client_id: 'c', azure_client_secret: SECRET });
  assert.match(noTenant, /auth\.azure_client_secret: .*needs a tenant id/);
  assert.doesNotMatch(noTenant, /needs a client id/);
  assert.match(proxy({ azure_use_managed_identity: true, azure_tenant_id: 't' }), /auth\.azure_tenant_id: a tenant id is used only with a client secret/);
  assert.match(proxy({ azure_use_managed_identity: true, header_name: 'Authorization', header_value: 'Bearer x' }),
    /auth\.header_name: 'Authorization' carries the Entra ID token/);
  for (const m of [proxy({ azure_use_managed_identity: true, azure_client_secret: SECRET }), proxy({ azure_client_secret: SECRET })]) {
    assert.ok(!m.includes(SECRET), 'no message shows the secret');
  }
  // What can work is accepted.
  assert.equal(proxy({ azure_use_managed_identity: true, azure_client_id: 'c', azure_client_secret: SECRET, azure_tenant_id: 't' }), '');
  assert.equal(proxy({ azure_use_managed_identity: true, azure_client_id: 'c' }), '');
  assert.equal(proxy({ azure_use_managed_identity: true }), '');
  assert.equal(proxy({ azure_use_managed_identity: true, header_name: 'api-key', header_value: API_KEY, allow_override: true }), '');
  assert.equal(proxy({ header_name: 'api-key', header_value: API_KEY }), '', 'an api-key target is untouched');
  // ai-proxy-advanced runs the same checks on every target.
  const advanced = refusalOf(() => new AiProxyAdvanced({ targets: [azureTarget({ azure_use_managed_identity: true }), azureTarget({ azure_use_managed_identity: true, azure_tenant_id: 't' })] }));
  assert.match(advanced, /config\.targets\[1\]: targets\[1\]\.auth\.azure_tenant_id: a tenant id is used only with a client secret/);
  assert.equal(refusalOf(() => new AiProxyAdvanced({ targets: [azureTarget({ azure_use_managed_identity: true, azure_client_id: 'c' })] })), '');
}));

test('configuration: the plugin server\'s AZURE_* variables may complete a credential', () => {
  const auth = { ...entra({ azure_client_secret: SECRET }), header_name: null };
  assert.match(azureEntraConfigProblem('azure', auth, {}) ?? '', /auth\.azure_client_secret:/);
  assert.equal(azureEntraConfigProblem('azure', auth, { AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't' }), undefined);
  const tenantOnly = { ...entra({ azure_tenant_id: 't' }), header_name: null };
  assert.equal(azureEntraConfigProblem('azure', tenantOnly, { AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: SECRET }), undefined);
  // The check the plugins run takes the environment it is given.
  const target = {
    auth: { ...auth, allow_override: false },
    model: { provider: 'azure', options: { upstream_url: null, llama2_format: null, mistral_format: null, anthropic_version: null, azure_instance: 'contoso', azure_api_version: '2024-10-21', azure_deployment_id: 'gpt-4o' } },
  };
  const problems = (env: Record<string, string>) => modelChecks('', env).map((c) => c(target)).filter((m) => m !== undefined);
  assert.equal(problems({ AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't' }).length, 0);
  assert.equal(problems({}).length, 1);
});

/** A TokenCredential the test drives: every getToken call is recorded and answered by `next`. */
class FakeCredential implements TokenCredential {
  readonly calls: Array<{ scopes: string | string[]; options: GetTokenOptions | undefined }> = [];
  next: () => Promise<AccessToken> = () => Promise.reject(new Error('no answer scripted'));
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.calls.push({ scopes, options });
    return this.next();
  }
}

const HOUR = 3600 * 1000;
const settle = () => new Promise((r) => setImmediate(r));

test('tokens: one credential per identity, one fetch for concurrent requests, renewed a few minutes before expiry', async () => {
  let now = 1_700_000_000_000;
  const made: Array<{ identity: AzureEntraIdentity; credential: FakeCredential }> = [];
  let issued = 0;
  const source = new AzureEntraTokenSource({
    now: () => now,
    makeCredential: async (identity) => {
      const credential = new FakeCredential();
      credential.next = async () => {
        await settle();
        issued++;
        return { token: `t${issued}`, expiresOnTimestamp: now + HOUR };
      };
      made.push({ identity, credential });
      return credential;
    },
  });
  const app: AzureEntraIdentity = { kind: 'client-secret', tenantId: 't', clientId: 'c', clientSecret: SECRET };

  const first = await Promise.all([source.token(app, {}), source.token(app, {}), source.token(app, {})]);
  assert.deepEqual(first, ['t1', 't1', 't1'], 'concurrent requests share one fetch');
  assert.equal(made.length, 1);
  assert.equal(made[0]!.credential.calls.length, 1);
  assert.equal(made[0]!.credential.calls[0]!.scopes, COGNITIVE_SERVICES_SCOPE);
  assert.ok(made[0]!.credential.calls[0]!.options?.abortSignal, 'the fetch can be cut off');

  now += 30 * 60 * 1000;
  assert.equal(await source.token({ ...app }, {}), 't1', 'the same identity (another plugin instance, say) reuses the token');
  assert.equal(made.length, 1, '... and the credential');
  assert.equal(made[0]!.credential.calls.length, 1);

  // Within the margin: this request still goes with t1 and starts the refresh; the next one has t2.
  now = 1_700_000_000_000 + HOUR - REFRESH_MARGIN_MS + 1000;
  assert.equal(await source.token(app, {}), 't1', 'a token about to be renewed does not keep the request waiting');
  assert.equal(made[0]!.credential.calls.length, 2, 'renewed before it expires');
  await settle();
  await settle();
  assert.equal(await source.token(app, {}), 't2');
  assert.equal(made[0]!.credential.calls.length, 2);

  // Other identities get their own credentials; a different secret is a different identity.
  assert.equal(await source.token({ kind: 'user-assigned-managed-identity', clientId: 'uami' }, {}), 't3');
  assert.equal(await source.token({ kind: 'system-assigned-managed-identity' }, {}), 't4');
  assert.equal(await source.token({ ...app, clientSecret: 'another-secret-value' }, {}), 't5');
  assert.equal(await source.token(app, { AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' }), 't6', 'another authority, another credential');
  assert.deepEqual(made.map((m) => m.identity.kind), ['client-secret', 'user-assigned-managed-identity', 'system-assigned-managed-identity', 'client-secret', 'client-secret']);

  // Expired (the clock jumped): the request waits for a new one.
  now += 2 * HOUR;
  assert.equal(await source.token(app, {}), 't7');
});

test('tokens: a fetch that hangs is cut off; a failure says why without the secret, and the next request tries again', async () => {
  const credential = new FakeCredential();
  const source = new AzureEntraTokenSource({ timeoutMs: 150, makeCredential: async () => credential });
  const app: AzureEntraIdentity = { kind: 'client-secret', tenantId: 'contoso', clientId: 'app-1', clientSecret: SECRET };

  credential.next = () => new Promise(() => {});
  const outcome = await Promise.race([
    source.token(app, {}).then(() => 'a token', (e: unknown) => e),
    new Promise((r) => setTimeout(() => r('still waiting after 2 s'), 2000)),
  ]);
  assert.ok(outcome instanceof AzureCredentialError && outcome instanceof CredentialError, String(outcome));
  assert.match(outcome.message, /client secret credential of client app-1 in tenant contoso: the token request took over 150 ms/);
  assert.equal(credential.calls[0]!.options?.abortSignal?.aborted, true, 'the hanging request is aborted');

  credential.next = () => Promise.reject(new Error(`AADSTS7000215: Invalid client secret provided for '${SECRET}'.\n Trace ID: 1`));
  await assert.rejects(source.token(app, {}), (e: Error) => /AADSTS7000215: Invalid client secret provided/.test(e.message)
    && !e.message.includes(SECRET) && !e.message.includes('\n'));
  assert.equal(credential.calls.length, 2, 'a failure is not kept');

  credential.next = async () => ({ token: 'good', expiresOnTimestamp: Date.now() + HOUR });
  assert.equal(await source.token(app, {}), 'good');

  const bounded = new AzureEntraTokenSource({ maxIdentities: 2, makeCredential: async () => credential });
  for (const clientId of ['a', 'b', 'c']) await bounded.token({ kind: 'user-assigned-managed-identity', clientId }, {});
  assert.equal(bounded.size, 2, 'the identities held are bounded');

  const broken = new AzureEntraTokenSource({ makeCredential: () => Promise.reject(new Error(`Invalid tenant id provided; secret ${SECRET}`)) });
  await assert.rejects(broken.token(app, {}), (e: Error) => e instanceof AzureCredentialError && /Invalid tenant id/.test(e.message) && !e.message.includes(SECRET));
});

test('azure provider: an Entra ID target whose credential cannot be completed is a credential error, not a call', async () => {
  const ctx = contextFor('azure', {
    route_type: 'llm/v1/chat', model: 'gpt-4o', request: { messages: [] },
    options: { azure_instance: 'contoso', azure_deployment_id: 'gpt-4o' },
    auth: { azure_use_managed_identity: true, azure_client_secret: SECRET }, env: {},
  });
  await assert.rejects(buildRequest(azureProvider, { messages: [{ role: 'user', content: 'hi' }] }, ctx),
    (e: Error) => e instanceof CredentialError && /auth\.azure_client_secret/.test(e.message) && !e.message.includes(SECRET));
  // Off, nothing changes: the configured api-key, no Authorization.
  const plain = await buildRequest(azureProvider, { messages: [{ role: 'user', content: 'hi' }] },
    { ...ctx, auth: { ...ctx.auth!, azure_use_managed_identity: false, azure_client_secret: null, header_name: 'api-key', header_value: API_KEY } });
  assert.equal(plain.headers['api-key'], API_KEY);
  assert.equal(plain.headers.authorization, undefined);
});

// Through Kong's side and the real plugin server.

function azurePlugin(upstream: ScriptedProvider, auth: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'ai-proxy',
    config: {
      route_type: 'llm/v1/chat', auth, logging: { log_statistics: true },
      model: {
        provider: 'azure', name: 'gpt-4o',
        options: {
          azure_instance: 'contoso', azure_deployment_id: 'gpt-4o', azure_api_version: '2024-10-21',
          upstream_url: `${upstream.url}/openai/deployments/gpt-4o/chat/completions`,
        },
      },
    },
  };
}

function gateway(routes: Array<[path: string, plugin: Record<string, unknown>]>, env: Record<string, string>): Promise<TestGateway> {
  return startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes: routes.map(([path, plugin], i) => ({ name: `r${i}`, paths: [path], plugins: [plugin] })) }],
    },
    layout: { env },
  });
}

const chat = { messages: [{ role: 'user', content: 'hello' }] };

/** Every line the plugin servers wrote, and the answers: none may hold a secret or a token. */
function assertNothingLeaks(t: TestGateway, answers: readonly string[], secrets: readonly string[]): void {
  const output = t.gw.serverOutput().map((l) => l.line);
  assert.ok(output.length > 0);
  for (const s of secrets) {
    for (const line of output) assert.ok(!line.includes(s), `plugin server output holds ${s.slice(0, 12)}...: ${line.slice(0, 200)}`);
    for (const a of answers) assert.ok(!a.includes(s), `an answer holds ${s.slice(0, 12)}...`);
  }
}

/** The relay's warning for a request that failed before proxying (it carries the reason). */
async function failureLine(t: TestGateway, requestId: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const l = t.gw.serverOutput().find((o) => o.line.includes(`request ${requestId}: LLM request failed before proxying:`));
    if (l) return l.line;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no log line says why request ${requestId} failed`);
}

test('client secret credential through the plugin server: one token from the authority, sent as a Bearer; a refused secret is Kong\'s 500 with the reason logged', async () => {
  const cert = makeTestCertificate();
  const authority = new FakeEntraAuthority(cert);
  const upstream = new ScriptedProvider();
  await authority.listen();
  await upstream.listen();
  upstream.script = upstream.answer('hello from azure');
  authority.delayMs = 200; // the first requests overlap while the token is on its way
  authority.answer = (r) => (r.form.get('client_id') === 'revoked-client'
    // Echoing the secret it was sent, as no real endpoint should: the log line must still not show it.
    ? { status: 401, body: { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided: '${r.form.get('client_secret')}'. Trace ID: 0000`, error_codes: [7000215] } }
    : authority.token());
  const t = await gateway([
    ['/entra', azurePlugin(upstream, { azure_use_managed_identity: true, azure_tenant_id: 'contoso-tenant', azure_client_id: 'app-client', azure_client_secret: SECRET })],
    ['/revoked', azurePlugin(upstream, { azure_use_managed_identity: true, azure_tenant_id: 'contoso-tenant', azure_client_id: 'revoked-client', azure_client_secret: REVOKED_SECRET })],
  ], { AZURE_AUTHORITY_HOST: authority.url, NODE_EXTRA_CA_CERTS: cert.certFile });
  const answers: string[] = [];
  try {
    const first = await Promise.all([1, 2, 3].map(() => postJson(`${t.url}/entra`, chat)));
    for (const r of first) {
      answers.push(r.text);
      assert.equal(r.status, 200, r.text);
    }
    const again = await postJson(`${t.url}/entra`, chat);
    answers.push(again.text);
    assert.equal(again.status, 200, again.text);
    assert.equal((again.json as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, 'hello from azure');

    const asked = authority.tokenRequests.filter((r) => r.form.get('client_id') === 'app-client');
    assert.equal(asked.length, 1, 'one token for four requests');
    const form = asked[0]!.form;
    assert.equal(asked[0]!.tenant, 'contoso-tenant');
    assert.equal(form.get('grant_type'), 'client_credentials');
    assert.equal(form.get('client_secret'), SECRET);
    assert.deepEqual(form.get('scope')!.split(' ').filter((s) => s === COGNITIVE_SERVICES_SCOPE), [COGNITIVE_SERVICES_SCOPE]);
    assert.ok(authority.paths.every((p) => p.startsWith('/contoso-tenant/')), `only the tenant's metadata and token endpoint: ${authority.paths.join(', ')}`);

    assert.equal(upstream.received.length, 4);
    for (const r of upstream.received) {
      assert.equal(r.headers.authorization, 'Bearer entra-token-1');
      assert.equal(r.headers['api-key'], undefined, 'no api-key needed');
      assert.match(r.url, /^\/openai\/deployments\/gpt-4o\/chat\/completions\?api-version=2024-10-21$/);
    }

    const revoked = await postJson(`${t.url}/revoked`, chat);
    answers.push(revoked.text);
    assert.equal(revoked.status, 500);
    assert.equal((revoked.json as { error: { message: string } }).error.message, 'LLM request failed before proxying');
    assert.equal(upstream.received.length, 4, 'no call without a token');
    const why = await failureLine(t, revoked.headers.get('x-kong-request-id')!);
    assert.match(why, /client secret credential of client revoked-client in tenant contoso-tenant/);
    assert.match(why, /AADSTS7000215|invalid_client/);

    // An upstream that quotes the token it got: neither the answer nor the log passes it on.
    upstream.script = (r, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `token ${String(r.headers.authorization)} is not valid here`, type: 'invalid_request_error', code: '401' } }));
    };
    const echoed = await postJson(`${t.url}/entra`, chat);
    answers.push(echoed.text);
    assert.equal(echoed.status, 401);
    assert.match(echoed.text, /is not valid here/);

    assertNothingLeaks(t, answers, [SECRET, REVOKED_SECRET, 'entra-token-1']);
  } finally {
    await t.close();
    await authority.close();
    await upstream.close();
    cert.remove();
  }
});

test('managed identity through App Service\'s endpoint: the identity header, the Cognitive Services resource, one token per identity, the client\'s Authorization replaced', async () => {
  const identity = new FakeAppServiceIdentity();
  const upstream = new ScriptedProvider();
  await identity.listen();
  await upstream.listen();
  upstream.script = upstream.answer('hello from azure');
  identity.answer = (r) => (r.query.get('client_id') === 'unknown-client'
    ? { status: 400, body: { error: 'invalid_request', error_description: 'Identity not found' } }
    : identity.token(r));
  const t = await gateway([
    ['/system', azurePlugin(upstream, { azure_use_managed_identity: true })],
    ['/user', azurePlugin(upstream, { azure_use_managed_identity: true, azure_client_id: 'uami-client' })],
    ['/override', azurePlugin(upstream, { azure_use_managed_identity: true, azure_client_id: 'uami-client', header_name: 'api-key', header_value: API_KEY, allow_override: true })],
    ['/unknown', azurePlugin(upstream, { azure_use_managed_identity: true, azure_client_id: 'unknown-client' })],
  ], { IDENTITY_ENDPOINT: identity.url, IDENTITY_HEADER });
  const answers: string[] = [];
  const call = async (path: string, headers: Record<string, string> = {}) => {
    const r = await postJson(`${t.url}${path}`, chat, headers);
    answers.push(r.text);
    return r;
  };
  try {
    for (let i = 0; i < 2; i++) assert.equal((await call('/system')).status, 200);
    assert.equal((await call('/user')).status, 200);
    const own = await call('/override', { authorization: 'Bearer client-own-token', 'api-key': 'client-own-api-key' });
    assert.equal(own.status, 200, own.text);

    for (const r of identity.requests) {
      assert.equal(r.headers['x-identity-header'], IDENTITY_HEADER);
      assert.equal(r.query.get('resource'), 'https://cognitiveservices.azure.com', 'the scope, as the resource it names');
      assert.equal(r.query.get('api-version'), '2019-08-01');
    }
    const byIdentity = (id: string | null) => identity.requests.filter((r) => r.query.get('client_id') === id);
    assert.equal(byIdentity(null).length, 1, 'system-assigned: one token for two requests');
    assert.equal(byIdentity('uami-client').length, 1, 'user-assigned: one token for two plugin instances');

    const auths = upstream.received.map((r) => r.headers.authorization);
    assert.match(auths[0]!, /^Bearer mi-token-system-\d+$/);
    assert.equal(auths[1], auths[0]);
    assert.match(auths[2]!, /^Bearer mi-token-uami-client-\d+$/);
    assert.equal(auths[3], auths[2], "the Entra token replaces the client's own Authorization");
    assert.equal(upstream.received[2]!.headers['api-key'], undefined);
    assert.equal(upstream.received[3]!.headers['api-key'], 'client-own-api-key', 'allow_override keeps the client\'s own configured header');

    const unknown = await call('/unknown');
    assert.equal(unknown.status, 500);
    assert.equal((unknown.json as { error: { message: string } }).error.message, 'LLM request failed before proxying');
    assert.equal(upstream.received.length, 4);
    const why = await failureLine(t, unknown.headers.get('x-kong-request-id')!);
    assert.match(why, /user-assigned managed identity unknown-client/);
    assert.match(why, /Identity not found|invalid_request/);

    const tokens = upstream.received.map((r) => String(r.headers.authorization).replace('Bearer ', ''));
    assertNothingLeaks(t, answers, [IDENTITY_HEADER, API_KEY, ...new Set(tokens)]);
  } finally {
    await t.close();
    await identity.close();
    await upstream.close();
  }
});
