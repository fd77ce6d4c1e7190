// Declaration -> Kong's schema language (the array a plugin module exports as `Schema`).
// Emits only attributes Kong's metaschema accepts, and refuses declarations Kong would refuse
// or that would misbehave, so a mistake fails at module load rather than at Kong's startup.

import type { AnyField, FieldMap, FieldSpec } from './builders';
import { KONG_INSTANCE_KEYS, type JsonValue, type KongFieldDef, type KongFieldEntry } from './kong-fields';

export class DeclarationError extends Error {
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'DeclarationError';
  }
}

/** Where a field sits: records named in a `fields` array get an explicit `required`. */
type Position = 'field' | 'element';

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function checkCommon(path: string, spec: FieldSpec): void {
  const { description, err } = spec.opts;
  if (description !== undefined) {
    const len = byteLength(description);
    if (len < 10 || len > 500) throw new DeclarationError(path, `description must be 10 to 500 bytes long (is ${len})`);
  }
  if (err !== undefined && err === '') throw new DeclarationError(path, 'err must not be empty');
}

function checkLengths(path: string, min: number | undefined, max: number | undefined): void {
  for (const [name, v] of [['len_min', min], ['len_max', max]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new DeclarationError(path, `${name} must be a non-negative integer`);
  }
  if (min !== undefined && max !== undefined && min > max) throw new DeclarationError(path, 'len_min is greater than len_max');
}

function convert(path: string, field: AnyField, position: Position): KongFieldDef {
  const spec = field.spec;
  checkCommon(path, spec);
  const o = spec.opts;
  const def: { -readonly [K in keyof KongFieldDef]: KongFieldDef[K] } = { type: spec.kind };

  if (spec.kind === 'record') {
    // Kong makes records of a plugin schema required unless they say otherwise; say it explicitly
    // so that records inside array elements (which Kong leaves alone) behave the same.
    if (position === 'field') def.required = o.required ?? true;
    else if (o.required !== undefined) def.required = o.required;
  } else if (o.required !== undefined) {
    def.required = o.required;
  }
  if (o.default !== undefined) def.default = o.default as JsonValue;
  if (o.description !== undefined) def.description = o.description;

  switch (spec.kind) {
    case 'string': {
      const s = spec.opts;
      checkLengths(path, s.len_min, s.len_max);
      if (s.one_of !== undefined) {
        if (s.one_of.length === 0) throw new DeclarationError(path, 'one_of must not be empty');
        def.one_of = [...s.one_of];
      }
      if (s.len_min !== undefined) def.len_min = s.len_min;
      if (s.len_max !== undefined) def.len_max = s.len_max;
      if (s.starts_with !== undefined) {
        if (s.starts_with === '') throw new DeclarationError(path, 'starts_with must not be empty');
        def.starts_with = s.starts_with;
      }
      if (s.match !== undefined) {
        if (s.match === '') throw new DeclarationError(path, 'match must not be empty');
        def.match = s.match;
      }
      if (s.referenceable !== undefined) def.referenceable = s.referenceable;
      if (s.encrypted !== undefined) def.encrypted = s.encrypted;
      break;
    }
    case 'integer':
    case 'number': {
      const n = spec.opts;
      const isInt = spec.kind === 'integer';
      if (n.one_of !== undefined) {
        if (n.one_of.length === 0) throw new DeclarationError(path, 'one_of must not be empty');
        if (isInt && !n.one_of.every(Number.isInteger)) throw new DeclarationError(path, 'one_of of an integer must hold integers');
        def.one_of = [...n.one_of];
      }
      if (n.between !== undefined) {
        const [lo, hi] = n.between;
        if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) throw new DeclarationError(path, 'between must be [min, max] with min <= max');
        def.between = [lo, hi];
      }
      if (n.gt !== undefined) {
        if (!Number.isFinite(n.gt)) throw new DeclarationError(path, 'gt must be a finite number');
        def.gt = n.gt;
      }
      break;
    }
    case 'boolean':
      break;
    case 'array':
    case 'set':
      checkLengths(path, spec.opts.len_min, spec.opts.len_max);
      if (spec.opts.len_min !== undefined) def.len_min = spec.opts.len_min;
      if (spec.opts.len_max !== undefined) def.len_max = spec.opts.len_max;
      def.elements = convert(`${path}[]`, spec.elements, 'element');
      break;
    case 'map':
      checkLengths(path, spec.opts.len_min, spec.opts.len_max);
      if (spec.opts.len_min !== undefined) def.len_min = spec.opts.len_min;
      if (spec.opts.len_max !== undefined) def.len_max = spec.opts.len_max;
      if (spec.keys.spec.kind !== 'string') throw new DeclarationError(path, 'map keys must be strings');
      def.keys = convert(`${path}{key}`, spec.keys, 'element');
      def.values = convert(`${path}{value}`, spec.values, 'element');
      break;
    case 'record': {
      def.fields = toKongFields(spec.fields, path);
      const checks = spec.opts.entity_checks;
      if (checks !== undefined && checks.length > 0) {
        for (const check of checks) {
          const names = Object.values(check)[0] as readonly string[];
          const unknown = names.filter((n) => !(n in spec.fields));
          if (names.length === 0 || unknown.length > 0) throw new DeclarationError(path, `entity check ${JSON.stringify(check)} must name fields of this record`);
        }
        def.entity_checks = checks.map((c) => ({ ...c }));
      }
      break;
    }
    case 'json':
      def.json_schema = { inline: spec.inline };
      break;
  }
  if (o.err !== undefined) def.err = o.err;
  return def;
}

/**
 * Converts a field map to Kong's `fields` array. `path` names the record for error messages;
 * at the top level ("config") names Kong adds to every config are refused.
 */
export function toKongFields(fields: FieldMap, path = 'config'): KongFieldEntry[] {
  const out: KongFieldEntry[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const p = `${path}.${name}`;
    if (name === '') throw new DeclarationError(path, 'field names must not be empty');
    if (name === '$refs') throw new DeclarationError(p, "'$refs' is where Kong records vault references");
    if (path === 'config' && (KONG_INSTANCE_KEYS as readonly string[]).includes(name)) {
      throw new DeclarationError(p, 'Kong overwrites this key in every config it sends');
    }
    out.push({ [name]: convert(p, field, 'field') });
  }
  return out;
}
