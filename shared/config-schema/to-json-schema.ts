// Declaration -> JSON Schema (draft-07, for ajv) checking a config the way Kong checks it.
// It validates the config *after* default filling (see kong-defaults.ts), so every declared key is
// present: fields Kong always delivers are non-nullable, the others accept null.
// Annotation keywords (registered with ajv as no-ops) let errors be reported in Kong's terms:
//   kongType  - the Kong type of the node ('set', 'map', 'record'...)
//   kongErr   - the field's `err` message, which replaces validator messages as in Kong
//   kongRule  - which Kong validator a `pattern` stands for ('starts_with' or 'match')
//   kongArg   - that validator's argument

import type { AnyField, FieldMap, FieldSpec } from './builders';
import { KONG_INSTANCE_KEYS } from './kong-fields';
import { luaPatternToRegExpSource } from './lua-pattern';

export type JsonSchema = { [keyword: string]: unknown };

export const ANNOTATION_KEYWORDS = ['kongType', 'kongErr', 'kongRule', 'kongArg'] as const;

/** Whether Kong always delivers a value for this field (required, default, or required record). */
export function isNonNull(field: AnyField): boolean {
  const spec = field.spec;
  if (spec.opts.default !== undefined) return true;
  if (spec.kind === 'record') return spec.opts.required !== false;
  return spec.opts.required === true;
}

function escapeRegExp(s: string): string {
  return Array.from(s)
    .map((ch) => (/^[A-Za-z0-9 _]$/.test(ch) || (ch.codePointAt(0) as number) > 0x7f ? ch : `\\u{${(ch.codePointAt(0) as number).toString(16)}}`))
    .join('');
}

function typed(t: string, nullable: boolean): string | string[] {
  return nullable ? [t, 'null'] : t;
}

function hasReferenceable(fields: FieldMap): boolean {
  return Object.values(fields).some((f) => {
    const s: FieldSpec = f.spec;
    if (s.kind === 'string') return s.opts.referenceable === true;
    if (s.kind === 'array' || s.kind === 'set') return s.elements.spec.kind === 'string' && s.elements.spec.opts.referenceable === true;
    if (s.kind === 'map') return s.values.spec.kind === 'string' && s.values.spec.opts.referenceable === true;
    return false;
  });
}

function recordSchema(fields: FieldMap, nullable: boolean, extra: Record<string, JsonSchema>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const nonNull = isNonNull(field);
    properties[name] = fieldSchema(field, !nonNull);
    if (nonNull) required.push(name);
  }
  // Kong adds `$refs` (the original vault references) next to fields it resolved.
  if (hasReferenceable(fields)) properties.$refs = { type: 'object' };
  Object.assign(properties, extra);
  return { type: typed('object', nullable), kongType: 'record', properties, required, additionalProperties: false };
}

/** JSON Schema for one field; `nullable` adds null to its type. */
export function fieldSchema(field: AnyField, nullable: boolean): JsonSchema {
  const spec = field.spec;
  let schema: JsonSchema;
  switch (spec.kind) {
    case 'string': {
      const o = spec.opts;
      schema = { type: typed('string', nullable), kongType: 'string', minLength: o.len_min ?? 1 };
      if (o.len_max !== undefined) schema.maxLength = o.len_max;
      if (o.one_of !== undefined) schema.enum = nullable ? [...o.one_of, null] : [...o.one_of];
      const rules: JsonSchema[] = [];
      if (o.starts_with !== undefined) {
        rules.push({ type: typed('string', nullable), pattern: `^${escapeRegExp(o.starts_with)}`, kongRule: 'starts_with', kongArg: o.starts_with });
      }
      if (o.match !== undefined) {
        rules.push({ type: typed('string', nullable), pattern: luaPatternToRegExpSource(o.match), kongRule: 'match', kongArg: o.match });
      }
      if (o.err !== undefined) for (const r of rules) r.kongErr = o.err;
      if (rules.length > 0) schema.allOf = rules;
      break;
    }
    case 'integer':
    case 'number': {
      const o = spec.opts;
      schema = { type: typed(spec.kind, nullable), kongType: spec.kind };
      if (o.one_of !== undefined) schema.enum = nullable ? [...o.one_of, null] : [...o.one_of];
      if (o.between !== undefined) {
        schema.minimum = o.between[0];
        schema.maximum = o.between[1];
      }
      if (o.gt !== undefined) schema.exclusiveMinimum = o.gt;
      break;
    }
    case 'boolean':
      schema = { type: typed('boolean', nullable), kongType: 'boolean' };
      break;
    case 'array':
    case 'set':
      schema = { type: typed('array', nullable), kongType: spec.kind, items: fieldSchema(spec.elements, false) };
      if (spec.opts.len_min !== undefined) schema.minItems = spec.opts.len_min;
      if (spec.opts.len_max !== undefined) schema.maxItems = spec.opts.len_max;
      break;
    case 'map':
      schema = {
        type: typed('object', nullable),
        kongType: 'map',
        propertyNames: fieldSchema(spec.keys, false),
        additionalProperties: fieldSchema(spec.values, false),
      };
      if (spec.opts.len_min !== undefined) schema.minProperties = spec.opts.len_min;
      if (spec.opts.len_max !== undefined) schema.maxProperties = spec.opts.len_max;
      break;
    case 'record':
      schema = recordSchema(spec.fields, nullable, {});
      break;
    case 'json':
      schema = nullable ? { anyOf: [spec.inline, { type: 'null' }], kongType: 'json' } : { ...spec.inline, kongType: 'json' };
      break;
  }
  if (spec.opts.err !== undefined) schema.kongErr = spec.opts.err;
  return schema;
}

/** Schema of the whole config object as Kong sends it (its per-instance keys accepted). */
export function toJsonSchema(fields: FieldMap): JsonSchema {
  const extras: Record<string, JsonSchema> = {};
  for (const key of KONG_INSTANCE_KEYS) {
    extras[key] = key === '__seq__' ? { type: ['number', 'null'] } : { type: ['string', 'null'] };
  }
  return recordSchema(fields, false, extras);
}
