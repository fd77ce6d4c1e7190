// Kong's side of a plugin's config, for the Kong stand-in: what Kong stores for a config (defaults
// filled) and the problems its admin API answers 400 for (Schema:validate, Schema:validate_field).
// The metaschema check uses the same value validation for a field's default.

import { applyDefaults, isRequired } from '../../shared/config-schema/kong-defaults';
import { entryOf, isPlainObject, type KongFieldDef, type KongFieldEntry } from '../../shared/config-schema/kong-fields';
import { luaPatternToRegExp } from '../../shared/config-schema/lua-pattern';
import { entityNames, fieldPath, isReference, luaSequence, type SchemaFields } from './schema-values';

/**
 * What Kong stores for a plugin whose admin API body gave only `config` (process_auto_fields,
 * "insert"): defaults applied, nested records expanded, unset fields null, explicit nulls kept.
 */
export function fillDefaults(schemaFields: SchemaFields, config: Readonly<Record<string, unknown>> | null | undefined): Record<string, unknown> {
  return applyDefaults(schemaFields as readonly KongFieldEntry[], config);
}

/** The problems Kong's admin API would answer 400 for, for a config filled by fillDefaults. */
export function validateConfig(schemaFields: SchemaFields, filled: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  validateRecord(schemaFields as readonly KongFieldEntry[], undefined, { ...filled }, 'config', { entityChain: true, out });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small Lua-flavoured helpers

function isLuaTable(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

function luaLength(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Array.isArray(v)) return v.length;
  if (isPlainObject(v)) return Object.keys(v).length;
  return 0;
}

function fmtNumber(n: number): string {
  return String(Math.trunc(n));
}

function luaToString(v: unknown): string {
  return v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Value validation (Schema:validate_field), used for defaults and for validateConfig

export interface ValueContext {
  /** Records reached through record fields from the config are required (make_records_required). */
  readonly entityChain: boolean;
  readonly out: string[];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function runValidators(def: Record<string, unknown>, value: unknown, path: string, ctx: ValueContext): boolean {
  const fail = (msg: string): false => {
    ctx.out.push(`${path}: ${typeof def.err === 'string' ? def.err : msg}`);
    return false;
  };
  const has = (k: string): boolean => def[k] !== undefined && def[k] !== null;
  if (has('eq') && value !== def.eq) return fail(`value must be ${luaToString(def.eq)}`);
  if (has('ne') && value === def.ne) return fail(`value must not be ${luaToString(value)}`);
  const notOneOf = luaSequence(def.not_one_of);
  if (notOneOf !== undefined && notOneOf.includes(value)) return fail(`must not be one of: ${notOneOf.map(luaToString).join(', ')}`);
  const oneOf = luaSequence(def.one_of);
  if (oneOf !== undefined && !oneOf.includes(value)) return fail(`expected one of: ${oneOf.map(luaToString).join(', ')}`);
  if (typeof def.gt === 'number' && typeof value === 'number' && !(value > def.gt)) return fail(`value must be greater than ${luaToString(def.gt)}`);
  if (def.timestamp === true && typeof value === 'number' && !(value > 0)) return fail('expected a valid timestamp');
  if (def.uuid === true && typeof value === 'string' && !UUID_RE.test(value)) return fail('expected a valid UUID');
  const between = luaSequence(def.between);
  if (between !== undefined && typeof value === 'number') {
    const [lo, hi] = between as [number, number];
    if (value < lo || value > hi) return fail(`value should be between ${fmtNumber(lo)} and ${fmtNumber(hi)}`);
  }
  const len = luaLength(value);
  if (typeof def.len_eq === 'number' && len !== def.len_eq) return fail(`length must be ${def.len_eq}`);
  if (typeof def.len_min === 'number' && len < def.len_min) return fail(`length must be at least ${def.len_min}`);
  if (typeof def.len_max === 'number' && len > def.len_max) return fail(`length must be at most ${def.len_max}`);
  if (typeof value === 'string') {
    if (typeof def.starts_with === 'string' && !value.startsWith(def.starts_with)) return fail(`should start with: ${def.starts_with}`);
    const luaMatch = (pattern: unknown): boolean | undefined => {
      if (typeof pattern !== 'string') return undefined;
      try {
        return luaPatternToRegExp(pattern).test(value);
      } catch {
        return undefined; // %b, %f or malformed: not emulated
      }
    };
    if (luaMatch(def.not_match) === true) return fail(`invalid value: ${value}`);
    for (const item of luaSequence(def.match_none) ?? []) {
      if (isPlainObject(item) && luaMatch(item.pattern) === true) return fail(typeof item.err === 'string' ? item.err : `invalid value: ${value}`);
    }
    if (luaMatch(def.match) === false) return fail(`invalid value: ${value}`);
    for (const item of luaSequence(def.match_all) ?? []) {
      if (isPlainObject(item) && luaMatch(item.pattern) === false) return fail(typeof item.err === 'string' ? item.err : `invalid value: ${value}`);
    }
    if (isPlainObject(def.match_any)) {
      const patterns = luaSequence(def.match_any.patterns) ?? [];
      if (!patterns.some((p) => luaMatch(p) !== false)) return fail(typeof def.match_any.err === 'string' ? def.match_any.err : `invalid value: ${value}`);
    }
  }
  if (has('contains') && Array.isArray(value) && !value.includes(def.contains)) return fail(`expected to contain: ${luaToString(def.contains)}`);
  const subsets = luaSequence(def.mutually_exclusive_subsets);
  if (subsets !== undefined && Array.isArray(value)) {
    const hit = subsets.filter((s) => Array.isArray(s) && s.some((x) => value.includes(x)));
    if (hit.length > 1) return fail(`these sets are mutually exclusive: ${hit.map((s) => `(${(s as unknown[]).map((x) => `'${String(x)}'`).join(', ')})`).join(', ')}`);
  }
  return true;
}

const TYPE_ERRORS: Readonly<Record<string, string>> = {
  array: 'expected an array',
  set: 'expected a set',
  map: 'expected a map',
  record: 'expected a record',
  string: 'expected a string',
  number: 'expected a number',
  boolean: 'expected a boolean',
  integer: 'expected an integer',
  function: 'expected a function',
};

/** Schema:validate_field for one value. Returns whether it is valid; problems go to ctx.out. */
export function validateValue(defIn: unknown, value: unknown, path: string, ctx: ValueContext, required = false): boolean {
  if (!isPlainObject(defIn)) return true;
  const def = defIn;
  if (value === null || value === undefined) {
    if (value === null && def.ne === null) {
      ctx.out.push(`${path}: ${typeof def.err === 'string' ? def.err : 'value must not be null'}`);
      return false;
    }
    if (def.eq !== undefined && def.eq !== null) {
      ctx.out.push(`${path}: value must be ${luaToString(def.eq)}`);
      return false;
    }
    if (required || def.required === true) {
      ctx.out.push(`${path}: required field missing`);
      return false;
    }
    return true;
  }
  if (def.eq === null) {
    ctx.out.push(`${path}: ${typeof def.err === 'string' ? def.err : 'value must be null'}`);
    return false;
  }
  if (def.abstract === true) {
    ctx.out.push(`${path}: error in schema definition: abstract field was not specialized`);
    return false;
  }
  const type = def.type;
  const bad = (): false => {
    ctx.out.push(`${path}: ${TYPE_ERRORS[String(type)] ?? `invalid type: ${String(type)}`}`);
    return false;
  };
  switch (type) {
    case 'array':
    case 'set': {
      const seq = luaSequence(value);
      if (seq === undefined) return bad();
      let ok = true;
      seq.forEach((item, i) => {
        if (!validateValue(def.elements, item, `${path}[${i}]`, { ...ctx, entityChain: false }, true)) ok = false;
      });
      if (!ok) return false;
      break;
    }
    case 'map': {
      if (!isLuaTable(value)) return bad();
      if (Array.isArray(value) && value.length > 0) {
        ctx.out.push(`${path}: expected a string (map keys)`);
        return false;
      }
      for (const [k, v] of Object.entries(value)) {
        if (!validateValue(def.keys, k, `${path}{key ${JSON.stringify(k)}}`, ctx, true)) return false;
        if (!validateValue(def.values, v, `${path}[${JSON.stringify(k)}]`, { ...ctx, entityChain: false }, true)) return false;
      }
      break;
    }
    case 'record': {
      const record = isPlainObject(value) ? value : luaSequence(value) !== undefined ? {} : undefined;
      if (record === undefined) return bad();
      const fields = (luaSequence(def.fields) ?? []) as readonly KongFieldEntry[];
      const filled = applyDefaults(fields, record, { recordsRequired: ctx.entityChain });
      return validateRecord(fields, def.entity_checks, filled, path, ctx);
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return bad();
      break;
    case 'number':
      if (typeof value !== 'number') return bad();
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return bad();
      break;
    case 'string':
      if (typeof value !== 'string') return bad();
      if (def.referenceable === true && isReference(value)) return true;
      if (def.len_min === undefined || def.len_min === null) return runValidators({ ...def, len_min: 1 }, value, path, ctx);
      break;
    case 'function':
      return bad();
    default:
      return true; // json (validated against its JSON schema by Kong), foreign: not emulated
  }
  return runValidators(def, value, path, ctx);
}

function getPath(data: unknown, name: string): unknown {
  let v: unknown = data;
  for (const k of name.split('.')) v = isPlainObject(v) ? v[k] : undefined;
  return v;
}

function nonEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (isLuaTable(v)) return Object.keys(v).length > 0;
  return true;
}

/** Schema:validate for a record value (unknown keys, required fields, simple entity checks). */
function validateRecord(fields: readonly KongFieldEntry[], entityChecks: unknown, data: Record<string, unknown>, path: string, ctx: ValueContext): boolean {
  const before = ctx.out.length;
  const defs = new Map<string, KongFieldDef>();
  for (const entry of fields) {
    if (!isPlainObject(entry)) continue;
    const [name, def] = entryOf(entry);
    defs.set(name, def);
  }
  for (const [k, v] of Object.entries(data)) {
    const def = defs.get(k);
    if (def === undefined) ctx.out.push(`${fieldPath(path, k)}: unknown field`);
    else if (def.type === 'json') continue;
    else validateValue(def, v, fieldPath(path, k), ctx, isRequired(def, ctx.entityChain));
  }
  for (const [name, def] of defs) {
    if (isRequired(def, ctx.entityChain) && (data[name] === null || data[name] === undefined) && !ctx.out.includes(`${fieldPath(path, name)}: required field missing`)) {
      ctx.out.push(`${fieldPath(path, name)}: required field missing`);
    }
  }
  if (ctx.out.length === before) {
    for (const check of luaSequence(entityChecks) ?? []) {
      if (!isPlainObject(check)) continue;
      for (const [checker, arg] of Object.entries(check)) {
        const names = entityNames(arg);
        const set = names.filter((n) => nonEmpty(getPath(data, n)));
        const quoted = names.map((n) => `'${n}'`).join(', ');
        const at = path === '' ? 'config' : path;
        if (checker === 'mutually_required' && set.length !== 0 && set.length !== names.length) ctx.out.push(`${at}: all or none of these fields must be set: ${quoted}`);
        if (checker === 'at_least_one_of' && set.length === 0) ctx.out.push(`${at}: at least one of these fields must be non-empty: ${quoted}`);
        if (checker === 'only_one_of' && set.length !== 1) ctx.out.push(`${at}: exactly one of these fields must be non-empty: ${quoted}`);
        if (checker === 'mutually_exclusive' && set.length > 1) ctx.out.push(`${at}: only one or none of these fields must be set: ${quoted}`);
      }
    }
  }
  return ctx.out.length === before;
}
