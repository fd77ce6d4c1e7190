import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillDefaults, validateConfig } from '../tools/harness/kong-config-validation';
import { checkPluginInfo, kongValidVersion } from '../tools/harness/kong-metaschema';
import { cjsonEncode, encodeConfigForStartInstance, pluginCacheKey } from '../tools/harness/start-instance-config';

type Fields = unknown[];

function info(fields: Fields, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Name: 'acme-ai-proxy',
    Version: '1.2.3',
    Priority: 770,
    Phases: ['access', 'log'],
    Schema: { name: 'acme-ai-proxy', fields: [{ config: { type: 'record', fields } }] },
    ...over,
  };
}

/** The problems for one config field definition. */
function fieldProblems(def: unknown, strict = true): string[] {
  return checkPluginInfo(info([{ f: def }]), { strict });
}

test('a sound plugin info passes', () => {
  const fields: Fields = [
    { model: { type: 'record', fields: [{ provider: { type: 'string', required: true, one_of: ['openai'] } }, { temperature: { type: 'number', between: [0, 5], default: 1 } }] } },
    { list: { type: 'array', elements: { type: 'string', match: '^%w+$' }, default: [] } },
    { m: { type: 'map', keys: { type: 'string' }, values: { type: 'integer', gt: 0 } } },
    { auth: { type: 'record', required: false, fields: [{ a: { type: 'string' } }, { b: { type: 'string' } }], entity_checks: [{ mutually_required: ['a', 'b'] }] } },
    { j: { type: 'json', json_schema: { inline: { type: 'object' } } } },
    { s: { type: 'string', description: 'Ten bytes+', referenceable: true, encrypted: true, err: 'custom' } },
  ];
  assert.deepEqual(checkPluginInfo(info(fields)), []);
  assert.deepEqual(checkPluginInfo(info(fields), { strict: false }), []);
  assert.deepEqual(checkPluginInfo(info([])), [], 'an empty Schema is valid');
});

test('plugin info checks: name, priority, version, phases', () => {
  assert.match(checkPluginInfo(info([], { Name: 'ai-proxy' })).join(), /'ai-proxy' is a plugin bundled with Kong/);
  assert.match(checkPluginInfo(info([], { Name: 'ai-prompt-guard' })).join(), /bundled/);
  assert.deepEqual(checkPluginInfo(info([], { Name: 'ai-proxy' }), { allowBundledName: true }), []);
  assert.deepEqual(checkPluginInfo(info([], { Name: '' })), ['Name: expected a non-empty string']);

  assert.deepEqual(checkPluginInfo(info([], { Priority: 1.5 })), ['Priority: must be an integer, got 1.5']);
  assert.deepEqual(checkPluginInfo(info([], { Priority: '770' })), ['Priority: must be an integer, got "770"']);
  assert.match(checkPluginInfo(info([], { Priority: undefined })).join(), /Priority: missing/);
  assert.deepEqual(checkPluginInfo(info([], { Priority: 0 })), [], '0 is what kong-pdk reports when Priority is unset, and Lua accepts it');

  // Kong's valid_version is the lenient `version` rock: "1.0" passes Kong, not the project's rule.
  assert.deepEqual(checkPluginInfo(info([], { Version: '1.0' }), { strict: false }), []);
  assert.deepEqual(checkPluginInfo(info([], { Version: '1.0' })), ['Version: must be exactly x.y.z, got "1.0" (project rule; Kong 3.9 itself accepts this)']);
  for (const bad of ['1.2.3.4', 'abc', '1..2', undefined, 1]) {
    assert.match(checkPluginInfo(info([], { Version: bad }), { strict: false }).join(), /Version: does not follow the "x\.y\.z" format/, String(bad));
  }
  assert.equal(kongValidVersion('v1.2.3'), '1.2.3');
  assert.equal(kongValidVersion('2.0.1-beta'), '2.0.1');
  assert.equal(kongValidVersion('1.2.'), '1.2');

  assert.deepEqual(checkPluginInfo(info([], { Phases: ['response', 'body_filter'] }), { strict: false }), [
    'Phases: a plugin cannot implement both `response` and `header_filter` or `body_filter`',
  ]);
  assert.deepEqual(checkPluginInfo(info([], { Phases: ['access', 'acces'] })), ['Phases: unknown phase "acces" (project rule; Kong 3.9 itself accepts this)']);
  assert.deepEqual(checkPluginInfo(info([], { Phases: ['access', 'acces'] }), { strict: false }), []);
  assert.deepEqual(checkPluginInfo(info([], { Phases: 'access' })), ['Phases: expected an array of phase names']);
  assert.deepEqual(checkPluginInfo(null), ['plugin info: expected an object {Name, Version, Priority, Phases, Schema}']);
});

test('broken Kong schemas are caught as the metaschema would', () => {
  const cases: Array<[unknown, string]> = [
    [{ type: 'number', betwen: [0, 1] }, "config.f: unknown attribute 'betwen'"],
    [{ type: 'string', nilable: true }, "config.f: unknown attribute 'nilable'"],
    [{ type: 'array' }, "config.f: field of type 'array' must declare 'elements'"],
    [{ type: 'set', elements: null }, "config.f: 'elements' must be a table"],
    [{ type: 'map', keys: { type: 'string' } }, "config.f: field of type 'map' must declare 'values'"],
    [{ type: 'record' }, "config.f: field of type 'record' must declare 'fields'"],
    [{ type: 'json' }, "config.f: field of type 'json' must declare 'json_schema'"],
    [{ type: 'boolean', one_of: [true, false] }, "config.f: field of type 'boolean' cannot have attribute 'one_of'"],
    [{ type: 'string', between: [1, 2] }, "config.f: field of type 'string' cannot have attribute 'between'"],
    [{ type: 'integer', match: '^%d+$' }, "config.f: field of type 'integer' cannot have attribute 'match'"],
    [{ type: 'strin' }, "config.f: attribute 'type': expected one of: array, set, string, number, boolean, integer, foreign, map, record, function, json"],
    [{ required: true }, 'config.f: missing type declaration'],
    [{ type: 'string', required: 'yes' }, "config.f: attribute 'required': expected a boolean"],
    [{ type: 'string', description: 'short' }, "config.f: attribute 'description': length must be at least 10"],
    [{ type: 'string', description: 'é'.repeat(251) }, "config.f: attribute 'description': length must be at most 500"],
    [{ type: 'integer', between: [1] }, "config.f: attribute 'between': length must be 2"],
    [{ type: 'integer', len_min: 1.5 }, "config.f: attribute 'len_min': expected an integer"],
    [{ type: 'string', match: '' }, "config.f: attribute 'match': length must be at least 1"],
    [{ type: 'string', custom_validator: 'fn' }, "config.f: attribute 'custom_validator': expected a function (a plugin server cannot provide one)"],
    [{ type: 'string', default: 5 }, 'config.f: default: expected a string'],
    [{ type: 'string', default: '' }, 'config.f: default: length must be at least 1'],
    [{ type: 'string', one_of: ['a', 'b'], default: 'c' }, 'config.f: default: expected one of: a, b'],
    [{ type: 'number', between: [0, 5], default: 7 }, 'config.f: default: value should be between 0 and 5'],
    [{ type: 'integer', default: 1.5 }, 'config.f: default: expected an integer'],
    [{ type: 'string', required: true, default: null }, 'config.f: default: required field missing'],
    [{ type: 'array', elements: { type: 'integer' }, default: [1, 'x'] }, 'config.f: default[1]: expected an integer'],
    [{ type: 'string', unique_across_ws: true }, "config.f: failed conditional validation given value of field 'unique_across_ws' (requires unique = true)"],
    [{ type: 'record', fields: [{ a: { type: 'string' } }], entity_checks: [{ mutually_required: ['a'], only_one_of: ['a'] }] }, "config.f: attribute 'entity_checks'[0]: exactly one of these fields must be non-empty: 'at_least_one_of', 'conditional_at_least_one_of', 'only_one_of', 'distinct', 'conditional', 'custom_entity_check', 'mutually_required', 'mutually_exclusive', 'mutually_exclusive_sets'"],
  ];
  for (const [def, expected] of cases) {
    assert.deepEqual(fieldProblems(def, false), [expected], JSON.stringify(def));
  }
  assert.deepEqual(fieldProblems({ type: 'json', json_schema: { namespace: 'x', parent_subschema_key: 'g' } }, false), [
    "config.f: attribute 'json_schema'.namespace: expected one of: proxy-wasm-filters",
    "config.f: attribute 'json_schema'.parent_subschema_key: value must be a field name of the parent schema",
  ]);
  assert.deepEqual(fieldProblems({ type: 'json', json_schema: { inline: { type: 'object' }, optional: true } }, false), [
    "config.f: attribute 'json_schema': these sets are mutually exclusive: ('inline'), ('namespace', 'parent_subschema_key', 'optional')",
  ]);
  // A record default is filled, then validated with all its problems.
  assert.deepEqual(fieldProblems({ type: 'record', fields: [{ x: { type: 'string', required: true } }], default: { y: 1 } }, false), [
    'config.f: default.y: unknown field',
    'config.f: default.x: required field missing',
  ]);
  // Entry shapes and the subschema wrapper.
  assert.deepEqual(checkPluginInfo(info([{ a: { type: 'string' }, b: { type: 'string' } }])), ['config.fields[0]: length must be 1 (one field name per entry, found 2)']);
  assert.deepEqual(checkPluginInfo(info([{}])), ['config.fields[0]: length must be 1 (one field name per entry, found 0)']);
  assert.deepEqual(checkPluginInfo(info(['a'])), ['config.fields[0]: each entry in fields must be an object with one key, the field name']);
  assert.deepEqual(checkPluginInfo(info([{ '': { type: 'string' } }])), ['config.fields[0]: a field name must not be empty']);
  const wrapper = (schema: unknown): string[] => checkPluginInfo({ ...info([]), Schema: schema });
  assert.deepEqual(wrapper({ name: 'x', fields: [], extra: 1 }), ['Schema.extra: unknown field']);
  assert.deepEqual(wrapper({ fields: [] }), ['Schema.name: required field missing']);
  assert.deepEqual(wrapper({ name: 'x' }), ["Schema.fields: 'fields' must be a table"]);
  assert.deepEqual(wrapper({ name: 'x', fields: [{ foo: { type: 'string' } }] }), ['foo: error in definition of the plugin: foo: cannot create a new field']);
  assert.deepEqual(wrapper({ name: 'x', fields: [{ config: { type: 'string' } }] }), ['config: error in definition of the plugin: config: cannot change type in a specialized field']);
  assert.deepEqual(wrapper({ name: 'x', fields: { config: {} } }), ['Schema.fields: expected an array']);
  assert.deepEqual(wrapper({ name: 'x', fields: {} }), [], 'an empty JSON object is an empty Lua table');
});

test('strict mode adds project rules, each marked', () => {
  assert.deepEqual(checkPluginInfo(info([{ route_id: { type: 'string' } }])), [
    'config.route_id: Kong overwrites this key in the config it sends (project rule; Kong 3.9 itself accepts this)',
  ]);
  assert.deepEqual(fieldProblems({ type: 'string', match: '%b()' }), [
    "config.f: attribute 'match': Lua pattern \"%b()\": %b (balanced match) is not supported (project rule; Kong 3.9 itself accepts this)",
  ]);
  assert.deepEqual(fieldProblems({ type: 'function' }), ["config.f: type 'function' cannot be used from a plugin server (project rule; Kong 3.9 itself accepts this)"]);
  assert.deepEqual(fieldProblems({ type: 'function' }, false), []);
});

test('fillDefaults: nested records, nullable records, arrays and sets as Kong stores them', () => {
  const fields: Fields = [
    { name: { type: 'string', required: true } },
    { mode: { type: 'string', default: 'allow' } },
    { note: { type: 'string' } },
    { limits: { type: 'record', fields: [{ rps: { type: 'integer', default: 10 } }, { burst: { type: 'integer' } }, { inner: { type: 'record', fields: [{ on: { type: 'boolean', default: true } }] } }] } },
    { auth: { type: 'record', required: false, fields: [{ key: { type: 'string' } }, { location: { type: 'string', default: 'header' } }] } },
    { tls: { type: 'record', required: false, default: { verify: true }, fields: [{ verify: { type: 'boolean' } }, { ca: { type: 'string' } }] } },
    { tags: { type: 'set', elements: { type: 'string' }, default: ['a', 'a', 'b'] } },
    { hosts: { type: 'array', elements: { type: 'string' } } },
    { targets: { type: 'array', elements: { type: 'record', fields: [{ url: { type: 'string' } }, { weight: { type: 'integer', default: 100 } }, { sub: { type: 'record', fields: [{ x: { type: 'string', default: 'y' } }] } }] } } },
  ];
  const input = { name: 'n', note: null, targets: [{ url: 'http://a' }], hosts: ['h', 'h'] };
  const filled = fillDefaults(fields, input);
  assert.deepEqual(filled, {
    name: 'n',
    mode: 'allow',
    note: null, // explicit null kept
    // A record without `required` is made required (make_records_required) and expanded.
    limits: { rps: 10, burst: null, inner: { on: true } },
    // required = false and no default: null, not expanded.
    auth: null,
    // required = false with a default: the default as is, not processed (no `ca: null`).
    tls: { verify: true },
    tags: ['a', 'a', 'b'], // a default is copied verbatim (make_set runs on given values only)
    hosts: ['h', 'h'],
    // Records in array elements are processed, but not made required: `sub` stays null.
    targets: [{ url: 'http://a', weight: 100, sub: null }],
  });
  assert.deepEqual(input, { name: 'n', note: null, targets: [{ url: 'http://a' }], hosts: ['h', 'h'] }, 'input untouched');
  assert.deepEqual(fillDefaults(fields, { tags: ['x', 'x', 'y'] }).tags, ['x', 'y'], 'a given set is de-duplicated');
  assert.deepEqual(fillDefaults(fields, { auth: { key: 'k' } }).auth, { key: 'k', location: 'header' });
  assert.equal(fillDefaults(fields, { limits: null }).limits, null, 'an explicit null record is kept (and then refused as required)');
  assert.deepEqual(fillDefaults(fields, null).limits, { rps: 10, burst: null, inner: { on: true } }, 'no config at all');
  assert.equal(fillDefaults(fields, { extra: 1 }).extra, 1, 'unknown keys stay for validation to refuse');

  assert.deepEqual(validateConfig(fields, fillDefaults(fields, { limits: null, extra: 1, targets: [{ weight: 'x' }] })), [
    'config.limits: required field missing',
    'config.extra: unknown field',
    'config.targets[0].weight: expected an integer',
    'config.name: required field missing',
  ]);
  assert.deepEqual(validateConfig(fields, fillDefaults(fields, { name: 'n' })), []);
});

test('encodeConfigForStartInstance: what the plugin server receives', () => {
  const fields: Fields = [
    { route_type: { type: 'string', required: true } },
    { note: { type: 'string' } },
    { empty_ok: { type: 'string', len_min: 0 } },
    { blank: { type: 'string' } },
    { n: { type: 'integer' } },
    { ratio: { type: 'number' } },
    { list: { type: 'array', elements: { type: 'string' }, default: [] } },
    { headers: { type: 'map', keys: { type: 'string' }, values: { type: 'string' }, default: {} } },
    { auth: { type: 'record', fields: [{ header_value: { type: 'string', referenceable: true } }, { other: { type: 'string' } }] } },
    { opt: { type: 'record', required: false, fields: [{ x: { type: 'string' } }] } },
  ];
  const stored = fillDefaults(fields, { route_type: 'llm/v1/chat', empty_ok: '', blank: '', n: 3, ratio: 0.1 + 0.2, auth: { header_value: '{vault://env/key}' }, stale: 1 });
  const extras = { route_id: 'r', service_id: null, consumer_id: undefined, plugin_instance_name: null, __plugin_id: 'p', __ws_id: 'w', __key__: 'plugins:x:r::::w', __seq__: 4 };
  const json = encodeConfigForStartInstance(stored, extras, { schema: fields, resolveReference: (ref) => (ref === '{vault://env/key}' ? 'sk-1' : undefined) });
  assert.equal(
    json,
    '{"route_type":"llm\\/v1\\/chat","empty_ok":"","n":3,"ratio":0.3,"list":[],"headers":{},' +
      '"auth":{"header_value":"sk-1","$refs":{"header_value":"{vault:\\/\\/env\\/key}"}},' +
      '"route_id":"r","__plugin_id":"p","__ws_id":"w","__key__":"plugins:x:r::::w","__seq__":4}',
  );
  const parsed = JSON.parse(json) as Record<string, unknown>;
  assert.equal('note' in parsed, false, 'unset fields are absent, not null');
  assert.equal('service_id' in parsed, false, 'nil extras are absent');
  assert.equal('stale' in parsed, false, 'keys outside the schema are dropped by the select pass');

  // Without the schema: nulls are dropped everywhere, nothing else changes.
  assert.equal(
    encodeConfigForStartInstance({ a: null, b: { c: null, d: [] }, e: 'x/y' }, { __plugin_id: 'p', __ws_id: 'w', __key__: 'k', __seq__: 1 }),
    '{"b":{"d":[]},"e":"x\\/y","__plugin_id":"p","__ws_id":"w","__key__":"k","__seq__":1}',
  );
  assert.equal(cjsonEncode({ x: 1 / 3 }), '{"x":0.3333333333333333}');
  assert.equal(pluginCacheKey({ name: 'acme', routeId: 'r', wsId: 'w' }), 'plugins:acme:r::::w');
});
