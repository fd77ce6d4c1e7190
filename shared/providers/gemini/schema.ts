// JSON Schema (what OpenAI clients send for tool parameters and response_format) into the OpenAPI 3.0
// subset Gemini's `Schema` object accepts (ai.google.dev/api/caching#Schema; Vertex AI's Schema is the
// same). Gemini answers 400 to a keyword it does not know (`additionalProperties`, `$schema`, `$ref`,
// `const`, ...), to a STRING `format` other than `enum`/`date-time`, to non-string `enum` values and to an
// OBJECT with an empty `properties` map, so the schema is rebuilt from the keywords Gemini takes rather
// than filtered: an unknown keyword is dropped, never forwarded.

import { isObject, type Json } from '../core/json';

/** Formats Gemini accepts, by type; any other `format` is dropped (the description still says it). */
const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
};

const NUMERIC_KEYS = ['minItems', 'maxItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'minimum', 'maximum'] as const;

/** Deeper than this, a schema is cut to a bare object (a guard against hostile nesting, not a real limit). */
const MAX_DEPTH = 32;

class SchemaConverter {
  private readonly defs: Json;
  constructor(root: Json) {
    this.defs = { ...(isObject(root.definitions) ? root.definitions : {}), ...(isObject(root.$defs) ? root.$defs : {}) };
  }

  /** `#/$defs/X` or `#/definitions/X` inlined; a cycle or an unknown target becomes an open object. */
  private resolve(s: Json, seen: readonly string[]): { schema: Json; seen: readonly string[] } | null {
    const ref = s.$ref;
    if (typeof ref !== 'string') return { schema: s, seen };
    const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
    const name = m ? decodeURIComponent(m[1]!.replace(/~1/g, '/').replace(/~0/g, '~')) : undefined;
    if (name === undefined || seen.includes(name) || !isObject(this.defs[name])) return null;
    // Keywords next to $ref (a description, typically) win over the definition's.
    const { $ref: _ref, ...rest } = s;
    return { schema: { ...(this.defs[name] as Json), ...rest }, seen: [...seen, name] };
  }

  convert(input: unknown, depth = 0, seen: readonly string[] = []): Json {
    if (!isObject(input) || depth > MAX_DEPTH) return { type: 'object' };
    const r = this.resolve(input, seen);
    if (r === null) return { type: 'object', ...(typeof input.description === 'string' ? { description: input.description } : {}) };
    let s = r.schema;
    if (Array.isArray(s.allOf)) s = mergeAllOf(s);
    const out: Json = {};

    // type: a list with "null" becomes nullable; several real types become anyOf.
    let type: string | undefined;
    let nullable = s.nullable === true;
    if (typeof s.type === 'string') {
      if (s.type === 'null') nullable = true;
      else type = s.type;
    } else if (Array.isArray(s.type)) {
      const types = s.type.filter((t): t is string => typeof t === 'string');
      if (types.includes('null')) nullable = true;
      const real = types.filter((t) => t !== 'null');
      if (real.length === 1) type = real[0];
      else if (real.length > 1) out.anyOf = real.map((t) => this.convert({ ...s, type: t, nullable: false }, depth + 1, r.seen));
    }
    if (type !== undefined) out.type = type;
    if (typeof s.description === 'string') out.description = s.description;
    if (nullable) out.nullable = true;

    if (typeof s.format === 'string' && type !== undefined && (FORMATS[type] ?? []).includes(s.format)) out.format = s.format;
    const values = Array.isArray(s.enum) ? s.enum : 'const' in s ? [s.const] : undefined;
    if (values !== undefined) {
      const strings = values.filter((v) => v !== null).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      if (values.includes(null)) out.nullable = true;
      if (strings.length > 0) {
        out.enum = strings;
        // Gemini's enum is a STRING format; a typeless enum would be rejected.
        if (out.type === undefined) out.type = 'string';
      }
    }
    for (const k of NUMERIC_KEYS) if (typeof s[k] === 'number') out[k] = s[k];
    if (typeof s.pattern === 'string') out.pattern = s.pattern;

    if (isObject(s.properties)) {
      const props: Json = {};
      for (const [name, sub] of Object.entries(s.properties)) props[name] = this.convert(sub, depth + 1, r.seen);
      if (Object.keys(props).length > 0) {
        out.properties = props;
        if (Array.isArray(s.required)) {
          const req = s.required.filter((n): n is string => typeof n === 'string' && n in props);
          if (req.length > 0) out.required = req;
        }
        if (Array.isArray(s.propertyOrdering)) {
          const order = s.propertyOrdering.filter((n): n is string => typeof n === 'string' && n in props);
          if (order.length > 0) out.propertyOrdering = order;
        }
      }
      if (out.type === undefined) out.type = 'object';
    }
    if (s.items !== undefined) {
      // A tuple (`items: [...]` or `prefixItems`) has no Gemini form: its first member stands for all.
      const items = Array.isArray(s.items) ? s.items[0] : s.items;
      if (items !== undefined) out.items = this.convert(items, depth + 1, r.seen);
      if (out.type === undefined) out.type = 'array';
    } else if (Array.isArray(s.prefixItems) && s.prefixItems.length > 0) {
      out.items = this.convert(s.prefixItems[0], depth + 1, r.seen);
    }
    if (out.type === 'array' && out.items === undefined) out.items = { type: 'string' };

    const union = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
    if (union !== undefined && out.anyOf === undefined) {
      const nonNull = union.filter((u) => !(isObject(u) && u.type === 'null'));
      if (nonNull.length < union.length) out.nullable = true;
      if (nonNull.length === 1) {
        // `anyOf: [X, {type: null}]` (pydantic's Optional[X]) is just a nullable X.
        const only = this.convert(nonNull[0], depth + 1, r.seen);
        for (const [k, v] of Object.entries(only)) if (!(k in out)) out[k] = v;
      } else if (nonNull.length > 1) {
        out.anyOf = nonNull.map((u) => this.convert(u, depth + 1, r.seen));
      }
    }
    return out;
  }
}

/** `allOf` merged into one schema: properties and required united, other keywords first-come. */
function mergeAllOf(s: Json): Json {
  const { allOf, ...rest } = s;
  const merged: Json = { ...rest };
  for (const part of allOf as unknown[]) {
    if (!isObject(part)) continue;
    for (const [k, v] of Object.entries(part)) {
      if (k === 'properties' && isObject(v)) merged.properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...v };
      else if (k === 'required' && Array.isArray(v)) merged.required = [...(Array.isArray(merged.required) ? merged.required : []), ...v];
      else if (!(k in merged)) merged[k] = v;
    }
  }
  return merged;
}

/** A JSON Schema rewritten into Gemini's Schema subset. */
export function toGeminiSchema(schema: unknown): Json {
  return new SchemaConverter(isObject(schema) ? schema : {}).convert(schema);
}

/**
 * Function parameters: Gemini rejects an OBJECT schema with no properties, so a function that takes no
 * arguments is declared without `parameters` (the API's own way to say "no arguments").
 */
export function toGeminiParameters(schema: unknown): Json | undefined {
  if (schema === undefined || schema === null) return undefined;
  const out = toGeminiSchema(schema);
  if (out.type === 'object' && out.properties === undefined && out.anyOf === undefined) return undefined;
  return out;
}
