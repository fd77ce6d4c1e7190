import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allOrNone,
  applyDefaults,
  arr,
  bool,
  ConfigError,
  defineConfig,
  DeclarationError,
  instanceMeta,
  int,
  json,
  luaPatternToRegExp,
  LuaPatternError,
  map,
  num,
  record,
  set,
  str,
  type ConfigOf,
} from '../shared/config-schema';
import { fillDefaults } from '../tools/harness/kong-config-validation';
import { checkPluginInfo } from '../tools/harness/kong-metaschema';
import { encodeConfigForStartInstance } from '../tools/harness/start-instance-config';

// A trimmed ai-proxy-like declaration used throughout.
const decl = defineConfig(
  {
    route_type: str({ required: true, one_of: ['llm/v1/chat', 'llm/v1/completions', 'preserve'], description: 'The model route type.' }),
    auth: record(
      {
        header_name: str({ referenceable: true }),
        header_value: str({ referenceable: true, encrypted: true }),
        allow_override: bool({ default: false }),
      },
      { required: false, entity_checks: [{ mutually_required: ['header_name', 'header_value'] }] },
    ),
    model: record({
      provider: str({ required: true, one_of: ['openai', 'anthropic', 'llama2'] }),
      name: str(),
      options: record({
        max_tokens: int(),
        temperature: num({ between: [0, 5] }),
        upstream_url: str({ match: '^https?://' }),
      }),
    }),
    logging: record({
      log_statistics: bool({ required: true, default: false }),
      log_payloads: bool({ required: true, default: false }),
    }),
    response_streaming: str({ default: 'allow', one_of: ['allow', 'deny', 'always'] }),
    max_request_body_size: int({ default: 8192, gt: 0 }),
    targets: arr(record({ url: str({ required: true, starts_with: 'http' }), weight: int({ default: 100, between: [1, 65535] }) }), { default: [] }),
    tags: set(str()),
    headers: map(str(), str({ len_max: 8 })),
  },
  {
    checks: [
      (c) => (c.model.provider === 'llama2' && c.model.options.upstream_url === null ? "must set 'model.options.upstream_url' for self-hosted providers/models" : undefined),
    ],
  },
);

type Cfg = ConfigOf<typeof decl>;

const EXTRAS = {
  route_id: 'b3c2a1d0-0000-4000-8000-000000000001',
  service_id: null,
  consumer_id: null,
  plugin_instance_name: null,
  __plugin_id: 'd0000000-0000-4000-8000-000000000002',
  __ws_id: 'e0000000-0000-4000-8000-000000000003',
  __key__: 'plugins:acme-ai-proxy:b3c2a1d0-0000-4000-8000-000000000001::::e0000000-0000-4000-8000-000000000003',
  __seq__: 7,
};

function errorsOf(raw: unknown): readonly string[] {
  const r = decl.validate(raw);
  assert.equal(r.ok, false, 'expected the config to be refused');
  return r.ok ? [] : r.errors;
}

test('a declaration yields the expected Kong fields', () => {
  const small = defineConfig({
    mode: str({ required: true, one_of: ['a', 'b'], description: 'Which mode to run in.' }),
    limit: int({ default: 10, between: [1, 100] }),
    ratio: num({ gt: 0 }),
    key: str({ referenceable: true, encrypted: true, len_min: 0, len_max: 64 }),
    path: str({ starts_with: '/', match: '^/[%w/]*$' }),
    list: arr(str(), { default: ['x'], len_min: 1 }),
    uniq: set(int()),
    meta: map(str(), num()),
    nested: record({ on: bool({ default: true }) }),
    optional: record({ x: str() }, { required: false }),
    items: arr(record({ id: str({ required: true }) })),
    blob: json({ type: 'object' }),
  });
  assert.deepEqual(small.kongFields, [
    { mode: { type: 'string', required: true, description: 'Which mode to run in.', one_of: ['a', 'b'] } },
    { limit: { type: 'integer', default: 10, between: [1, 100] } },
    { ratio: { type: 'number', gt: 0 } },
    { key: { type: 'string', len_min: 0, len_max: 64, referenceable: true, encrypted: true } },
    { path: { type: 'string', starts_with: '/', match: '^/[%w/]*$' } },
    { list: { type: 'array', default: ['x'], len_min: 1, elements: { type: 'string' } } },
    { uniq: { type: 'set', elements: { type: 'integer' } } },
    { meta: { type: 'map', keys: { type: 'string' }, values: { type: 'number' } } },
    { nested: { type: 'record', required: true, fields: [{ on: { type: 'boolean', default: true } }] } },
    { optional: { type: 'record', required: false, fields: [{ x: { type: 'string' } }] } },
    // Records in array elements get no `required`; their own record fields would.
    { items: { type: 'array', elements: { type: 'record', fields: [{ id: { type: 'string', required: true } }] } } },
    { blob: { type: 'json', json_schema: { inline: { type: 'object' } } } },
  ]);
  // No key Kong's metaschema does not know, and `match` only where given.
  assert.ok(!JSON.stringify(small.kongFields).includes('"match":"^http'));
});

test('generated Kong fields pass the Kong-side plugin check (strict)', () => {
  const info = {
    Name: 'acme-ai-proxy',
    Version: '0.1.0',
    Priority: 770,
    Phases: ['access', 'log'],
    Schema: { name: 'acme-ai-proxy', fields: [{ config: { type: 'record', fields: decl.kongFields } }] },
  };
  assert.deepEqual(checkPluginInfo(JSON.parse(JSON.stringify(info))), []);
});

test('a config as the brief describes it (nulls + Kong keys) is accepted and typed', () => {
  const cfg = decl.parse({
    route_type: 'llm/v1/chat',
    auth: null,
    model: { provider: 'openai', name: 'gpt-4o', options: { max_tokens: null, temperature: 0.7, upstream_url: null } },
    logging: { log_statistics: true, log_payloads: false },
    response_streaming: 'allow',
    max_request_body_size: 8192,
    targets: [],
    tags: null,
    headers: null,
    ...EXTRAS,
  });
  assert.equal(cfg.route_type, 'llm/v1/chat');
  assert.equal(cfg.model.options.temperature, 0.7);
  assert.equal(cfg.auth, null);
  assert.equal((cfg as Record<string, unknown>).__seq__, undefined, 'Kong keys are not part of the typed config');
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.model.options));
  assert.deepEqual(instanceMeta({ ...EXTRAS, plugin_instance_name: 'x' }), {
    routeId: EXTRAS.route_id,
    serviceId: null,
    consumerId: null,
    instanceName: 'x',
    pluginId: EXTRAS.__plugin_id,
    workspaceId: EXTRAS.__ws_id,
    key: EXTRAS.__key__,
    seq: 7,
  });
});

test('the config real Kong sends (nulls stripped by its select pass) parses to the same typed config', () => {
  const admin = { route_type: 'llm/v1/chat', model: { provider: 'openai', options: { temperature: 1 } }, tags: ['a', 'a'] };
  const stored = fillDefaults(decl.kongFields, admin);
  const sent = JSON.parse(encodeConfigForStartInstance(stored, EXTRAS, { schema: decl.kongFields })) as Record<string, unknown>;
  assert.equal(sent.auth, undefined, 'Kong omits unset fields');
  const cfg = decl.parse(sent);
  assert.deepEqual(cfg, {
    route_type: 'llm/v1/chat',
    auth: null,
    model: { provider: 'openai', name: null, options: { max_tokens: null, temperature: 1, upstream_url: null } },
    logging: { log_statistics: false, log_payloads: false },
    response_streaming: 'allow',
    max_request_body_size: 8192,
    targets: [],
    tags: ['a'],
    headers: null,
  });
  // Kong's own stored form parses the same way.
  assert.deepEqual(decl.parse({ ...stored, ...EXTRAS }), cfg);
});

test('refusals name the field path in one line', () => {
  assert.deepEqual(errorsOf({ route_type: 'llm/v1/chat', model: { provider: 'openai', options: { temperature: 9 } } }), [
    'config.model.options.temperature: must be between 0 and 5',
  ]);
  assert.deepEqual(errorsOf({ route_type: 'llm/v2', model: { provider: 'openai' } }), [
    'config.route_type: expected one of: llm/v1/chat, llm/v1/completions, preserve',
  ]);
  assert.deepEqual(errorsOf({ model: { provider: 'openai' } }), ['config.route_type: required field missing']);
  assert.deepEqual(errorsOf({ route_type: 'preserve', model: null }), ['config.model.provider: required field missing']);
  assert.deepEqual(
    errorsOf({
      route_type: 'preserve',
      model: { provider: 'openai', options: { max_tokens: 1.5, upstream_url: 'ftp://x' } },
      max_request_body_size: 0,
      logging: { log_statistics: 'yes' },
      targets: [{ url: 'ws://a', weight: 0 }, { weight: 2 }],
      tags: ['ok', 3],
      headers: { 'x-a': 'too long value' },
      extra: true,
    }),
    [
      'config.extra: unknown field',
      'config.model.options.max_tokens: expected an integer',
      'config.model.options.upstream_url: invalid value "ftp://x" (must match the Lua pattern ^https?://)',
      'config.logging.log_statistics: expected a boolean',
      'config.max_request_body_size: must be greater than 0',
      'config.targets[0].url: should start with: http',
      'config.targets[0].weight: must be between 1 and 65535',
      'config.targets[1].url: required field missing',
      'config.tags[1]: expected a string',
      'config.headers["x-a"]: length must be at most 8',
    ],
  );
  assert.deepEqual(errorsOf('not an object'), ['config: expected a record (object), got string']);
  assert.throws(
    () => decl.parse({ route_type: 'preserve', model: { provider: 'openai' }, model_typo: 1 }),
    (e: unknown) => e instanceof ConfigError && e.message === 'config.model_typo: unknown field' && e.errors.length === 1,
  );
});

test('record entity checks and plugin checks run after the type checks', () => {
  assert.deepEqual(errorsOf({ route_type: 'preserve', model: { provider: 'openai' }, auth: { header_name: 'Authorization' } }), [
    "config.auth: all or none of these fields must be set: 'header_name', 'header_value'",
  ]);
  assert.deepEqual(errorsOf({ route_type: 'preserve', model: { provider: 'llama2' } }), [
    "config: must set 'model.options.upstream_url' for self-hosted providers/models",
  ]);
  // A type error stops there: the checks see only well-typed configs.
  assert.deepEqual(errorsOf({ route_type: 'preserve', model: { provider: 'llama2', options: { upstream_url: 5 } } }), [
    'config.model.options.upstream_url: expected a string',
  ]);
  const ok = decl.validate({ route_type: 'preserve', model: { provider: 'llama2', options: { upstream_url: 'http://ollama:11434' } } });
  assert.equal(ok.ok, true);
  // The record check is also declared to Kong.
  const auth = decl.kongFields.find((e) => 'auth' in e)?.auth;
  assert.deepEqual(auth?.entity_checks, [{ mutually_required: ['header_name', 'header_value'] }]);

  const top = defineConfig({ a: str(), b: str() }, { checks: [allOrNone('a', 'b')] });
  assert.equal(top.validate({ a: 'x' }).ok, false);
  assert.equal(top.validate({ a: 'x', b: 'y' }).ok, true);
});

test('Kong-resolved vault references: $refs is accepted and removed', () => {
  const cfg = decl.parse({
    route_type: 'preserve',
    model: { provider: 'openai' },
    auth: { header_name: 'Authorization', header_value: 'Bearer sk-1', $refs: { header_value: '{vault://env/openai-key}' } },
  });
  assert.equal(cfg.auth?.header_value, 'Bearer sk-1');
  assert.equal('$refs' in (cfg.auth ?? {}), false);
  // A reference Kong could not resolve arrives as "": refused, not silently used.
  assert.deepEqual(errorsOf({ route_type: 'preserve', model: { provider: 'openai' }, auth: { header_name: 'A', header_value: '' } }), [
    'config.auth.header_value: must not be empty',
  ]);
});

// Compile-time checks of ConfigOf: this function is type-checked, never run. Each
// expect-error line below fails the build if inference were wrong in the other direction.
function typeChecks(cfg: Cfg): void {
  const routeType: 'llm/v1/chat' | 'llm/v1/completions' | 'preserve' = cfg.route_type;
  const size: number = cfg.max_request_body_size; // default: never null
  const stats: boolean = cfg.logging.log_statistics;
  const provider: 'openai' | 'anthropic' | 'llama2' = cfg.model.provider; // required record, required field
  const url: string | null = cfg.model.options.upstream_url;
  const weight: number | undefined = cfg.targets[0]?.weight;
  const tags: readonly string[] | null = cfg.tags;
  const header: string | undefined = cfg.headers?.['x'];
  // @ts-expect-error optional string may be null
  const name: string = cfg.model.name;
  // @ts-expect-error a record with required: false may be null
  const allow: boolean = cfg.auth.allow_override;
  // @ts-expect-error only the declared literals
  const bad: typeof cfg.response_streaming = 'sometimes';
  // @ts-expect-error the config is read-only
  cfg.max_request_body_size = 1;
  // @ts-expect-error an undeclared field does not exist
  void cfg.nonexistent;
  void [routeType, size, stats, provider, url, weight, tags, header, name, allow, bad];
  // Declarations check their options' shapes too.
  // @ts-expect-error between is for numbers
  str({ between: [1, 2] });
  // @ts-expect-error entity checks name the record's own fields
  record({ a: str() }, { entity_checks: [{ mutually_required: ['a', 'b'] }] });
}

test('ConfigOf infers the config type', () => {
  const cfg: Cfg = decl.parse({ route_type: 'preserve', model: { provider: 'openai' } });
  assert.equal(cfg.model.provider, 'openai');
  assert.equal(typeof typeChecks, 'function');
});

test('declarations Kong would refuse fail at definition time', () => {
  const refused = (f: () => unknown, re: RegExp): void => assert.throws(f, (e: unknown) => e instanceof DeclarationError && re.test(e.message));
  refused(() => defineConfig({ a: str({ default: 'z', one_of: ['x', 'y'] }) }), /^config\.a: invalid default "z": config\.a: expected one of: x, y$/);
  refused(() => defineConfig({ a: int({ default: 1.5 }) }), /config\.a: expected an integer/);
  refused(() => defineConfig({ a: num({ default: 9, between: [0, 5] }) }), /must be between 0 and 5/);
  refused(() => defineConfig({ a: str({ default: '' }) }), /must not be empty/);
  refused(() => defineConfig({ r: record({ x: str({ required: true }) }, { default: {} }) }), /config\.r\.x: required field missing/);
  refused(() => defineConfig({ a: str({ description: 'short' }) }), /description must be 10 to 500 bytes/);
  refused(() => defineConfig({ __seq__: int() }), /Kong overwrites this key/);
  refused(() => defineConfig({ a: str({ one_of: [] }) }), /one_of must not be empty/);
  refused(() => defineConfig({ a: num({ between: [5, 1] }) }), /between/);
  refused(() => defineConfig({ a: map(int() as never, str()) }), /map keys must be strings/);
  assert.throws(() => defineConfig({ a: str({ match: '%b()' }) }), LuaPatternError);
});

test('applyDefaults fills as Kong does, from a declaration or Kong fields', () => {
  const filled = applyDefaults(decl, { route_type: 'preserve', model: { provider: 'openai' }, targets: [{ url: 'http://a' }] });
  assert.deepEqual(filled, applyDefaults(decl.kongFields, { route_type: 'preserve', model: { provider: 'openai' }, targets: [{ url: 'http://a' }] }));
  assert.deepEqual(filled.logging, { log_statistics: false, log_payloads: false });
  assert.deepEqual(filled.model, { provider: 'openai', name: null, options: { max_tokens: null, temperature: null, upstream_url: null } });
  assert.equal(filled.auth, null);
  assert.deepEqual(filled.targets, [{ url: 'http://a', weight: 100 }]);
  // Explicit nulls: kept by default (Kong's insert), treated as unset with nullIsMissing.
  assert.equal(applyDefaults(decl, { response_streaming: null }).response_streaming, null);
  assert.equal(applyDefaults(decl, { response_streaming: null }, { nullIsMissing: true }).response_streaming, 'allow');
});

test('Lua patterns translate to equivalent regular expressions', () => {
  const cases: Array<[string, string, boolean]> = [
    ['^https?://', 'https://x', true],
    ['^https?://', 'ftp://x', false],
    ['^%w+$', 'abc123', true],
    ['^%w+$', 'abc-123', false],
    ['^[%w%-_]+$', 'a-b_c', true],
    ['^[^%s]+$', 'no space', false],
    ['%d%d%d', 'ab123', true],
    ['^a.-b$', 'axxb', true],
    ['^%a+%.%a+$', 'x.y', true],
    ['^%a+%.%a+$', 'xzy', false],
    ['[]]', ']', true],
    ['^(%d+)%.(%d+)$', '1.25', true],
    ['a*$', '', true],
    ['^%u%l*$', 'Hello', true],
    ['^%x+$', 'DEADbeef', true],
    ['^%x+$', 'xyz', false],
    ['^[a-c]+$', 'abcd', false],
    ['$x', 'a$x', true],
    ['^%p$', '/', true],
    ['^%A+$', '123', true],
  ];
  for (const [pattern, subject, expected] of cases) {
    assert.equal(luaPatternToRegExp(pattern).test(subject), expected, `${pattern} on ${subject}`);
  }
  for (const bad of ['%f[%w]', '%1', '[a', 'abc%', '(a', 'a)']) assert.throws(() => luaPatternToRegExp(bad), LuaPatternError, bad);
});
