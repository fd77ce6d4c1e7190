// Kong's side of a plugin's schema, for the Kong stand-in: what Kong 3.9 refuses when it
// loads an external plugin (see kong-config-validation.ts for configs, start-instance-config.ts for
// the JSON Kong sends in StartInstance).
//
// checkPluginInfo (Kong-faithful rules; sources are Kong 3.9.3 unless noted):
//  Plugin info (runloop/plugin_servers/process.lua, plugin.lua; db/dao/plugins.lua load_plugin_handler)
//   - Name: a non-empty string (it keys Kong's plugin table). With a bundled plugin's name
//     (constants.lua) Kong loads the bundled Lua handler and schema instead: refused unless
//     `allowBundledName`.
//   - Priority: present (nil makes Kong report the plugin "not installed"), a finite integer.
//   - Version: what Kong's valid_version accepts: the `version` rock 1.0.1, non-strict: the first
//     run of digits and dots, split on dots, each part a number, at most 3 parts ("1.0" and
//     "v1.2.3" pass, "1.2.3.4", "1..2" and "abc" fail).
//   - Phases: an array; `response` together with `header_filter` or `body_filter` is refused.
//  Schema, as MetaSchema.MetaSubSchema:validate checks it (db/schema/metaschema.lua, init.lua):
//   - top level: only name (non-empty string, required), fields (required), entity_checks,
//     shorthand_fields, transformations, check; shorthand_fields, transformations and check need
//     Lua functions, so from JSON only an empty list or null passes. Each top-level field must be a
//     field of Kong's plugins entity with a compatible type (Schema.new_subschema).
//   - fields: an array (an empty JSON object is an empty Lua table and passes); each entry an object
//     with exactly one key, a non-empty field name; each definition an object.
//   - attributes: only those of the metaschema's field_schema and validators; any other is an
//     "unknown field". Attribute values typed as there: booleans (required, auto, unique,
//     unique_across_ws, abstract, generate_admin_api, immutable, encrypted, referenceable,
//     transient, is_regex, timestamp, uuid), non-empty strings (reference, err, match, not_match,
//     starts_with), description 10-500 bytes, on_delete one of restrict/cascade/null, integers
//     (len_eq, len_min, len_max), gt a number, between two numbers, one_of/not_one_of/examples
//     arrays without nulls, match_all/match_none/match_any/mutually_exclusive_subsets shapes,
//     custom_validator (a function: never from JSON), json_schema and deprecation records, nested
//     elements/keys/values definitions, fields, entity_checks. A null attribute counts as absent.
//   - type: required, one of array, set, string, number, boolean, integer, foreign, map, record,
//     function, json.
//   - check_field: array/set need elements, map keys and values, record fields (unless abstract),
//     json json_schema; between only on integer/number, one_of only on string/number/integer,
//     match/is_regex/uuid only on string, len_eq only on string/array/set/map, contains only on
//     array/set, timestamp only on number/integer, unique(_across_ws) only on string/number/
//     integer/foreign, json_schema only on json, transient and abstract only on their types;
//     elements/keys/values must be tables (null fails); json_schema.parent_subschema_key must name
//     a string sibling; unique_across_ws requires unique.
//   - default: checked against the field itself (type, element/field types, strings non-empty
//     unless len_min, one_of, between, gt, lengths, starts_with, match, ...; null only if not
//     required); records are default-filled before the check.
// Strict mode (the default; `strict: false` gives Kong's rules only) adds project rules, each
// marked in its message: Version exactly x.y.z; Phases only certificate, rewrite, access, response,
// preread, log, no repeats; no `foreign`/`function` types; no config field named like a key Kong
// adds to every config (route_id, __seq__...) or `$refs`; duplicate field names; `match` patterns
// Lua-valid and translatable by the plugin's validator; entity-check fields that exist.
// Left out: the contents of json_schema.inline (Kong validates it as a JSON schema), PCRE syntax of
// is_regex, conditional/custom entity checks beyond their shape, Lua-table quirks beyond the empty
// object/array one, deprecation warnings, and Kong's pcall of broken definitions (reported as the
// structural error instead).

import { isPlainObject, KONG_INSTANCE_KEYS } from '../../shared/config-schema/kong-fields';
import { luaPatternToRegExp } from '../../shared/config-schema/lua-pattern';
import { validateValue } from './kong-config-validation';
import { entityNames, fieldPath, luaSequence } from './schema-values';

/** Plugins bundled with Kong 3.9 (kong/constants.lua); 3.6-3.8 lack standard-webhooks/redirect. */
export const KONG_BUNDLED_PLUGINS: readonly string[] = [
  'jwt', 'acl', 'correlation-id', 'cors', 'oauth2', 'tcp-log', 'udp-log', 'file-log', 'http-log', 'key-auth',
  'hmac-auth', 'basic-auth', 'ip-restriction', 'request-transformer', 'response-transformer',
  'request-size-limiting', 'rate-limiting', 'response-ratelimiting', 'syslog', 'loggly', 'datadog',
  'ldap-auth', 'statsd', 'bot-detection', 'aws-lambda', 'request-termination', 'prometheus', 'proxy-cache',
  'session', 'acme', 'grpc-gateway', 'grpc-web', 'pre-function', 'post-function', 'azure-functions', 'zipkin',
  'opentelemetry', 'ai-proxy', 'ai-prompt-decorator', 'ai-prompt-template', 'ai-prompt-guard',
  'ai-request-transformer', 'ai-response-transformer', 'standard-webhooks', 'redirect',
];

/** Phases a JS plugin server reports (kong-pdk lib/mod.js). */
export const PLUGIN_SERVER_PHASES: readonly string[] = ['certificate', 'rewrite', 'access', 'response', 'preread', 'log'];

export interface CheckOptions {
  /** Accept a bundled plugin's name (the external plugin would then be shadowed). */
  readonly allowBundledName?: boolean;
  /** Add the project's rules to Kong's (default true). */
  readonly strict?: boolean;
}

const POLICY = ' (project rule; Kong 3.9 itself accepts this)';

const VALID_TYPES = ['array', 'set', 'string', 'number', 'boolean', 'integer', 'foreign', 'map', 'record', 'function', 'json'];
const BOOL_ATTRS = ['required', 'auto', 'unique', 'unique_across_ws', 'abstract', 'generate_admin_api', 'immutable', 'encrypted', 'referenceable', 'transient', 'is_regex', 'timestamp', 'uuid'];
const STRING_ATTRS = ['reference', 'err', 'match', 'not_match', 'starts_with'];
const INT_ATTRS = ['len_eq', 'len_min', 'len_max'];
const ANY_ATTRS = ['eq', 'ne', 'contains'];
const LIST_ATTRS = ['one_of', 'not_one_of', 'examples'];
const OTHER_ATTRS = [
  'type', 'description', 'on_delete', 'gt', 'between', 'default', 'match_all', 'match_none', 'match_any',
  'mutually_exclusive_subsets', 'custom_validator', 'json_schema', 'deprecation', 'elements', 'keys', 'values',
  'fields', 'entity_checks', 'shorthand_fields',
];
const KNOWN_ATTRS = new Set([...BOOL_ATTRS, ...STRING_ATTRS, ...INT_ATTRS, ...ANY_ATTRS, ...LIST_ATTRS, ...OTHER_ATTRS]);

/** metaschema.lua attribute_types: attributes allowed only on some types. */
const ATTRIBUTE_TYPES: Readonly<Record<string, readonly string[]>> = {
  between: ['integer', 'number'],
  len_eq: ['array', 'set', 'string', 'map'],
  match: ['string'],
  one_of: ['string', 'number', 'integer'],
  contains: ['array', 'set'],
  is_regex: ['string'],
  timestamp: ['number', 'integer'],
  uuid: ['string'],
  unique: ['string', 'number', 'integer', 'foreign'],
  unique_across_ws: ['string', 'number', 'integer', 'foreign'],
  abstract: ['string', 'number', 'integer', 'record', 'array', 'set', 'map'],
  json_schema: ['json'],
  transient: ['string', 'number', 'integer', 'array', 'set', 'boolean'],
};

const REQUIRED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  array: ['elements'],
  set: ['elements'],
  map: ['keys', 'values'],
  record: ['fields'],
  json: ['json_schema'],
};

/** Fields of Kong's plugins entity a subschema may specialise, with their types. */
const PLUGIN_ENTITY_FIELDS: Readonly<Record<string, { type: string; elements?: string }>> = {
  id: { type: 'string' },
  name: { type: 'string' },
  instance_name: { type: 'string' },
  created_at: { type: 'integer' },
  updated_at: { type: 'integer' },
  route: { type: 'foreign' },
  service: { type: 'foreign' },
  consumer: { type: 'foreign' },
  config: { type: 'record' },
  protocols: { type: 'set', elements: 'string' },
  enabled: { type: 'boolean' },
  tags: { type: 'set', elements: 'string' },
};

const ENTITY_CHECKERS = [
  'at_least_one_of', 'conditional_at_least_one_of', 'only_one_of', 'distinct', 'conditional',
  'custom_entity_check', 'mutually_required', 'mutually_exclusive', 'mutually_exclusive_sets',
];
const NAME_LIST_CHECKERS = ['at_least_one_of', 'only_one_of', 'distinct', 'mutually_required', 'mutually_exclusive'];

/** Kong's valid_version (version 1.0.1, non-strict): the cleaned version, or undefined. */
export function kongValidVersion(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /\d[\d.]*/.exec(v);
  if (m === null) return undefined;
  const s = m[0];
  // The rock's split(): pieces between dots; a trailing dot adds no piece.
  const pieces = s.split('.');
  if (pieces.length > 1 && pieces[pieces.length - 1] === '') pieces.pop();
  if (pieces.some((p) => p === '')) return undefined;
  if (pieces.length > 3) return undefined;
  return pieces.map((p) => String(Number(p))).join('.');
}

// ---------------------------------------------------------------------------------------------
// The metaschema

interface MetaContext {
  readonly out: string[];
  readonly strict: boolean;
}

function expectBoolean(v: unknown, at: string, ctx: MetaContext): void {
  if (typeof v !== 'boolean') ctx.out.push(`${at}: expected a boolean`);
}

function expectString(v: unknown, at: string, ctx: MetaContext, min = 1, max = Infinity): void {
  if (typeof v !== 'string') {
    ctx.out.push(`${at}: expected a string`);
    return;
  }
  const len = Buffer.byteLength(v, 'utf8');
  if (len < min) ctx.out.push(`${at}: length must be at least ${min}`);
  if (len > max) ctx.out.push(`${at}: length must be at most ${max}`);
}

function expectStringList(v: unknown, at: string, ctx: MetaContext, minLen = 0): void {
  const seq = luaSequence(v);
  if (seq === undefined) {
    ctx.out.push(`${at}: expected an array`);
    return;
  }
  if (seq.length < minLen) ctx.out.push(`${at}: length must be at least ${minLen}`);
  seq.forEach((x, i) => expectString(x, `${at}[${i}]`, ctx));
}

/** Checks a record-shaped attribute value against named sub-checks; unknown keys are refused. */
function expectRecord(
  v: unknown,
  at: string,
  ctx: MetaContext,
  shape: Readonly<Record<string, (x: unknown, at: string) => void>>,
  required: readonly string[] = [],
): void {
  if (!isPlainObject(v)) {
    ctx.out.push(`${at}: expected a record`);
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    const check = shape[k];
    if (check === undefined) ctx.out.push(`${at}.${k}: unknown field`);
    else if (x !== null) check(x, `${at}.${k}`);
  }
  for (const k of required) if (v[k] === undefined || v[k] === null) ctx.out.push(`${at}.${k}: required field missing`);
}

function expectNoFunction(at: string, ctx: MetaContext): void {
  ctx.out.push(`${at}: expected a function (a plugin server cannot provide one)`);
}

function checkMatchList(v: unknown, at: string, ctx: MetaContext): void {
  const seq = luaSequence(v);
  if (seq === undefined) {
    ctx.out.push(`${at}: expected an array`);
    return;
  }
  seq.forEach((item, i) =>
    expectRecord(item, `${at}[${i}]`, ctx, { pattern: (x, a) => expectString(x, a, ctx), err: (x, a) => expectString(x, a, ctx) }, ['pattern']),
  );
}

function checkEntityChecks(v: unknown, at: string, ctx: MetaContext, recordFields: unknown): void {
  const seq = luaSequence(v);
  if (seq === undefined) {
    ctx.out.push(`${at}: expected an array`);
    return;
  }
  const names = new Set<string>();
  for (const entry of luaSequence(recordFields) ?? []) if (isPlainObject(entry)) names.add(Object.keys(entry)[0] ?? '');
  seq.forEach((check, i) => {
    const a = `${at}[${i}]`;
    if (!isPlainObject(check)) {
      ctx.out.push(`${a}: expected a record`);
      return;
    }
    const keys = Object.keys(check).filter((k) => check[k] !== null);
    for (const k of keys) if (!ENTITY_CHECKERS.includes(k)) ctx.out.push(`${a}.${k}: unknown field`);
    if (keys.length !== 1) ctx.out.push(`${a}: exactly one of these fields must be non-empty: ${ENTITY_CHECKERS.map((c) => `'${c}'`).join(', ')}`);
    for (const k of keys) {
      if (NAME_LIST_CHECKERS.includes(k)) {
        expectStringList(check[k], `${a}.${k}`, ctx);
        if (ctx.strict) {
          for (const n of entityNames(check[k])) {
            if (!names.has(n.split('.')[0] as string)) ctx.out.push(`${a}.${k}: '${n}' is not a field of this record (Kong raises a Lua error when it runs the check)${POLICY}`);
          }
        }
      } else if (ENTITY_CHECKERS.includes(k) && !isPlainObject(check[k])) {
        ctx.out.push(`${a}.${k}: expected a record`);
      }
    }
  });
}

function checkJsonSchema(v: unknown, at: string, ctx: MetaContext, siblings: unknown): void {
  expectRecord(v, at, ctx, {
    namespace: (x, a) => {
      if (x !== 'proxy-wasm-filters') ctx.out.push(`${a}: expected one of: proxy-wasm-filters`);
    },
    parent_subschema_key: (x, a) => expectString(x, a, ctx),
    optional: (x, a) => expectBoolean(x, a, ctx),
    inline: (x, a) => {
      if (!isPlainObject(x)) ctx.out.push(`${a}: expected a JSON schema (object)`);
    },
    default: (x, a) => {
      if (!isPlainObject(x)) ctx.out.push(`${a}: expected a JSON schema (object)`);
    },
  });
  if (!isPlainObject(v)) return;
  const set = (k: string): boolean => v[k] !== undefined && v[k] !== null;
  if (!set('inline') && !set('namespace') && !set('parent_subschema_key')) {
    ctx.out.push(`${at}: at least one of these fields must be non-empty: 'inline', 'namespace', 'parent_subschema_key'`);
  }
  if (set('namespace') !== set('parent_subschema_key')) ctx.out.push(`${at}: all or none of these fields must be set: 'namespace', 'parent_subschema_key'`);
  if (set('inline') && (set('namespace') || set('parent_subschema_key') || set('optional'))) {
    ctx.out.push(`${at}: these sets are mutually exclusive: ('inline'), ('namespace', 'parent_subschema_key', 'optional')`);
  }
  if (typeof v.parent_subschema_key === 'string') {
    const key = v.parent_subschema_key;
    const sibling = (luaSequence(siblings) ?? []).find((e) => isPlainObject(e) && Object.keys(e)[0] === key);
    if (sibling === undefined) ctx.out.push(`${at}.parent_subschema_key: value must be a field name of the parent schema`);
    else if (!isPlainObject((sibling as Record<string, unknown>)[key]) || ((sibling as Record<string, Record<string, unknown>>)[key] as Record<string, unknown>).type !== 'string') {
      ctx.out.push(`${at}.parent_subschema_key: value must be a string field of the parent schema`);
    }
  }
}

function checkDeprecation(v: unknown, at: string, ctx: MetaContext): void {
  expectRecord(
    v,
    at,
    ctx,
    {
      message: (x, a) => expectString(x, a, ctx),
      removal_in_version: (x, a) => expectString(x, a, ctx),
      old_default: () => undefined,
      replaced_with: (x, a) => {
        const seq = luaSequence(x);
        if (seq === undefined) {
          ctx.out.push(`${a}: expected an array`);
          return;
        }
        seq.forEach((item, i) =>
          expectRecord(
            item,
            `${a}[${i}]`,
            ctx,
            { path: (p, pa) => expectStringList(p, pa, ctx, 1), reverse_mapping_function: (_f, fa) => expectNoFunction(fa, ctx) },
            ['path'],
          ),
        );
      },
    },
    ['message', 'removal_in_version'],
  );
}

/** Checks one attribute's value against the metaschema. */
function checkAttribute(attr: string, v: unknown, path: string, ctx: MetaContext, def: Record<string, unknown>, siblings: unknown): void {
  const at = `${path}: attribute '${attr}'`;
  if (v === null) {
    if (attr === 'type') ctx.out.push(`${path}: missing type declaration`);
    // check_field indexes these without a nil check: a JSON null is not a table.
    if (attr === 'elements' || attr === 'keys' || attr === 'values' || attr === 'fields' || attr === 'json_schema') {
      ctx.out.push(`${path}: '${attr}' must be a table`);
    }
    return;
  }
  if (BOOL_ATTRS.includes(attr)) return expectBoolean(v, at, ctx);
  if (STRING_ATTRS.includes(attr)) return expectString(v, at, ctx);
  if (INT_ATTRS.includes(attr)) {
    if (typeof v !== 'number' || !Number.isInteger(v)) ctx.out.push(`${at}: expected an integer`);
    return;
  }
  if (ANY_ATTRS.includes(attr)) return;
  if (LIST_ATTRS.includes(attr)) {
    const seq = luaSequence(v);
    if (seq === undefined) ctx.out.push(`${at}: expected an array`);
    else if (seq.includes(null)) ctx.out.push(`${at}: required field missing (null element)`);
    return;
  }
  switch (attr) {
    case 'type':
      if (typeof v !== 'string' || !VALID_TYPES.includes(v)) ctx.out.push(`${at}: expected one of: ${VALID_TYPES.join(', ')}`);
      return;
    case 'description':
      return expectString(v, at, ctx, 10, 500);
    case 'on_delete':
      if (!['restrict', 'cascade', 'null'].includes(v as string)) ctx.out.push(`${at}: expected one of: restrict, cascade, null`);
      return;
    case 'gt':
      if (typeof v !== 'number') ctx.out.push(`${at}: expected a number`);
      return;
    case 'between': {
      const seq = luaSequence(v);
      if (seq === undefined) ctx.out.push(`${at}: expected an array`);
      else if (seq.length !== 2) ctx.out.push(`${at}: length must be 2`);
      else if (!seq.every((x) => typeof x === 'number')) ctx.out.push(`${at}: expected a number`);
      return;
    }
    case 'default':
      return; // checked against the field once the definition is known to be sound
    case 'match_all':
    case 'match_none':
      return checkMatchList(v, at, ctx);
    case 'match_any':
      return expectRecord(v, at, ctx, { patterns: (x, a) => expectStringList(x, a, ctx), err: (x, a) => expectString(x, a, ctx) }, ['patterns']);
    case 'mutually_exclusive_subsets': {
      const seq = luaSequence(v);
      if (seq === undefined) ctx.out.push(`${at}: expected an array`);
      else seq.forEach((s, i) => expectStringList(s, `${at}[${i}]`, ctx));
      return;
    }
    case 'custom_validator':
      return expectNoFunction(at, ctx);
    case 'json_schema':
      return checkJsonSchema(v, at, ctx, siblings);
    case 'deprecation':
      return checkDeprecation(v, at, ctx);
    case 'elements':
    case 'keys':
    case 'values':
      if (!isPlainObject(v)) ctx.out.push(`${path}: '${attr}' must be a table`);
      else checkFieldDef(v, `${path}.${attr}`, ctx, undefined);
      return;
    case 'fields':
      return checkFieldsArray(v, path, ctx);
    case 'entity_checks':
      return checkEntityChecks(v, at, ctx, def.fields);
    case 'shorthand_fields': {
      const seq = luaSequence(v);
      if (seq === undefined) ctx.out.push(`${at}: expected an array`);
      else if (seq.length > 0) ctx.out.push(`${at}: shorthand fields need a Lua function ('func'), which a plugin server cannot provide`);
      return;
    }
  }
}

function checkFieldDef(defIn: unknown, path: string, ctx: MetaContext, siblings: unknown): void {
  if (!isPlainObject(defIn)) {
    ctx.out.push(`${path}: expected a record (the field's definition)`);
    return;
  }
  const def = defIn;
  const before = ctx.out.length;
  for (const [attr, v] of Object.entries(def)) {
    if (!KNOWN_ATTRS.has(attr)) ctx.out.push(`${path}: unknown attribute '${attr}'`);
    else checkAttribute(attr, v, path, ctx, def, siblings);
  }
  const type = def.type;
  if (type === undefined) ctx.out.push(`${path}: missing type declaration`);
  if (typeof type !== 'string' || !VALID_TYPES.includes(type)) return;

  for (const attr of (def.abstract === true && type === 'record' ? [] : REQUIRED_ATTRIBUTES[type]) ?? []) {
    if (def[attr] === undefined) ctx.out.push(`${path}: field of type '${type}' must declare '${attr}'`);
  }
  for (const attr of Object.keys(def)) {
    const allowed = ATTRIBUTE_TYPES[attr];
    if (allowed !== undefined && !allowed.includes(type)) ctx.out.push(`${path}: field of type '${type}' cannot have attribute '${attr}'`);
  }
  if (def.unique_across_ws === true && def.unique !== true) ctx.out.push(`${path}: failed conditional validation given value of field 'unique_across_ws' (requires unique = true)`);

  if (ctx.strict) {
    if (type === 'foreign' || type === 'function') ctx.out.push(`${path}: type '${type}' cannot be used from a plugin server${POLICY}`);
    if (typeof def.match === 'string') {
      try {
        luaPatternToRegExp(def.match);
      } catch (e) {
        ctx.out.push(`${path}: attribute 'match': ${(e as Error).message}${POLICY}`);
      }
    }
  }

  // The default is validated against the field itself ("self"), once the definition is sound.
  if (def.default !== undefined && ctx.out.length === before) {
    validateValue(def, def.default, `${path}: default`, { entityChain: false, out: ctx.out });
  }
}

function checkFieldsArray(fields: unknown, path: string, ctx: MetaContext): void {
  const at = path === '' ? 'Schema.fields' : `${path}.fields`;
  const seq = luaSequence(fields);
  if (seq === undefined) {
    ctx.out.push(`${at}: expected an array`);
    return;
  }
  const seen = new Set<string>();
  seq.forEach((entry, i) => {
    const ea = `${at}[${i}]`;
    if (entry === null) return void ctx.out.push(`${ea}: required field missing`);
    if (!isPlainObject(entry)) return void ctx.out.push(`${ea}: each entry in fields must be an object with one key, the field name`);
    const keys = Object.keys(entry);
    if (keys.length !== 1) return void ctx.out.push(`${ea}: length must be 1 (one field name per entry, found ${keys.length})`);
    const name = keys[0] as string;
    if (name === '') return void ctx.out.push(`${ea}: a field name must not be empty`);
    const p = fieldPath(path, name);
    if (seen.has(name) && ctx.strict) ctx.out.push(`${p}: declared twice${POLICY}`);
    seen.add(name);
    if (ctx.strict && path === 'config' && ((KONG_INSTANCE_KEYS as readonly string[]).includes(name) || name === '$refs')) {
      ctx.out.push(`${p}: Kong overwrites this key in the config it sends${POLICY}`);
    }
    checkFieldDef(entry[name], p, ctx, seq);
  });
}

function checkSubschema(schema: unknown, ctx: MetaContext): void {
  if (!isPlainObject(schema)) {
    ctx.out.push('Schema: expected a record');
    return;
  }
  const allowed = ['name', 'fields', 'entity_checks', 'shorthand_fields', 'transformations', 'check'];
  for (const k of Object.keys(schema)) if (!allowed.includes(k)) ctx.out.push(`Schema.${k}: unknown field`);
  if (schema.name === undefined || schema.name === null) ctx.out.push('Schema.name: required field missing');
  else expectString(schema.name, 'Schema.name', ctx);
  if (schema.check !== undefined && schema.check !== null) expectNoFunction('Schema.check', ctx);
  for (const k of ['shorthand_fields', 'transformations']) {
    const v = schema[k];
    if (v === undefined || v === null) continue;
    const seq = luaSequence(v);
    if (seq === undefined) ctx.out.push(`Schema.${k}: expected an array`);
    else if (seq.length > 0) ctx.out.push(`Schema.${k}: needs Lua functions, which a plugin server cannot provide`);
  }
  if (schema.entity_checks !== undefined && schema.entity_checks !== null) checkEntityChecks(schema.entity_checks, 'Schema.entity_checks', ctx, schema.fields);
  if (schema.fields === undefined || schema.fields === null) {
    ctx.out.push("Schema.fields: 'fields' must be a table");
    return;
  }
  checkFieldsArray(schema.fields, '', ctx);
  // Schema.new_subschema: only fields of the plugins entity, with compatible types.
  for (const entry of luaSequence(schema.fields) ?? []) {
    if (!isPlainObject(entry) || Object.keys(entry).length !== 1) continue;
    const [name, def] = Object.entries(entry)[0] as [string, unknown];
    const parent = PLUGIN_ENTITY_FIELDS[name];
    if (parent === undefined) {
      ctx.out.push(`${name}: error in definition of the plugin: ${name}: cannot create a new field`);
      continue;
    }
    if (!isPlainObject(def)) continue;
    const compatible =
      (parent.type === 'record' && (def.type === 'record' || def.type === 'json')) ||
      (parent.type === def.type && (parent.elements === undefined || (isPlainObject(def.elements) && def.elements.type === parent.elements)));
    if (!compatible) ctx.out.push(`${name}: error in definition of the plugin: ${name}: cannot change type in a specialized field`);
  }
}

/**
 * The problems Kong 3.9 would refuse the plugin for when it loads it (empty when fine), plus the
 * project's own rules unless `strict: false`. `info` is one entry of the query command's dump.
 */
export function checkPluginInfo(info: unknown, opts: CheckOptions = {}): string[] {
  const strict = opts.strict ?? true;
  const out: string[] = [];
  if (!isPlainObject(info)) return ['plugin info: expected an object {Name, Version, Priority, Phases, Schema}'];

  const name = info.Name;
  if (typeof name !== 'string' || name === '') out.push('Name: expected a non-empty string');
  else if (KONG_BUNDLED_PLUGINS.includes(name) && opts.allowBundledName !== true) {
    out.push(`Name: '${name}' is a plugin bundled with Kong: Kong would load its Lua handler and schema and silently ignore this one`);
  }

  const prio = info.Priority;
  if (prio === undefined || prio === null || prio === false) out.push('Priority: missing (Kong then reports the plugin as not installed)');
  else if (typeof prio !== 'number' || !Number.isInteger(prio)) out.push(`Priority: must be an integer, got ${JSON.stringify(prio)}`);

  const version = info.Version;
  if (kongValidVersion(version) === undefined) out.push(`Version: does not follow the "x.y.z" format, got ${JSON.stringify(version)}`);
  else if (strict && !(typeof version === 'string' && /^\d+\.\d+\.\d+$/.test(version))) {
    out.push(`Version: must be exactly x.y.z, got ${JSON.stringify(version)}${POLICY}`);
  }

  const phases = info.Phases;
  const phaseList = luaSequence(phases);
  if (phaseList === undefined) out.push('Phases: expected an array of phase names');
  else {
    if (phaseList.includes('response') && (phaseList.includes('header_filter') || phaseList.includes('body_filter'))) {
      out.push('Phases: a plugin cannot implement both `response` and `header_filter` or `body_filter`');
    }
    if (strict) {
      const seen = new Set<unknown>();
      for (const ph of phaseList) {
        if (typeof ph !== 'string' || !PLUGIN_SERVER_PHASES.includes(ph)) out.push(`Phases: unknown phase ${JSON.stringify(ph)}${POLICY}`);
        else if (seen.has(ph)) out.push(`Phases: ${ph} listed twice${POLICY}`);
        seen.add(ph);
      }
    }
  }

  checkSubschema(info.Schema, { out, strict });
  return out;
}
