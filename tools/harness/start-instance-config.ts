// The `Config` string Kong sends in StartInstance, for the Kong stand-in: the stored config as the
// plugins iterator reads it ("select" processing, references resolved), Kong's per-instance keys, and
// lua-cjson's encoding; and the cache key Kong puts in `__key__`.

import { isRequired, missingValue } from '../../shared/config-schema/kong-defaults';
import { entryOf, isPlainObject, KONG_INSTANCE_KEYS, type KongFieldDef, type KongFieldEntry } from '../../shared/config-schema/kong-fields';
import { isReference, type SchemaFields } from './schema-values';

/** Kong's per-instance keys; a null or undefined one is nil in Lua and absent from the JSON. */
export interface StartInstanceExtras {
  readonly route_id?: string | null;
  readonly service_id?: string | null;
  readonly consumer_id?: string | null;
  readonly plugin_instance_name?: string | null;
  readonly __plugin_id: string;
  readonly __ws_id: string;
  readonly __key__: string;
  readonly __seq__: number;
}

export interface EncodeOptions {
  /**
   * The plugin's config fields. With them the config goes through Kong's "select" processing
   * exactly; without, null-valued keys are dropped everywhere (close, not exact).
   */
  readonly schema?: SchemaFields;
  /** Vault lookup for referenceable fields; unset: references are passed through unresolved. */
  readonly resolveReference?: (reference: string) => string | undefined;
}

/** The cache key Kong puts in `__key__` (DAO:cache_key for plugins). */
export function pluginCacheKey(p: { name: string; routeId?: string | null; serviceId?: string | null; consumerId?: string | null; wsId?: string | null }): string {
  return `plugins:${p.name}:${p.routeId ?? ''}:${p.serviceId ?? ''}:${p.consumerId ?? ''}::${p.wsId ?? ''}`;
}

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

function dedupeScalars(values: readonly unknown[]): unknown[] {
  const seen = new Set<unknown>();
  return values.filter((v) => (v === null || typeof v === 'object' ? true : seen.has(v) ? false : (seen.add(v), true)));
}

/** adjust_field_for_context for "select", for values inside arrays and maps. */
function selectNested(def: KongFieldDef | undefined, v: unknown, opts: EncodeOptions): unknown {
  if (def === undefined) return v;
  if (def.type === 'record' && isPlainObject(v)) return selectRecord(def.fields ?? [], v, false, opts);
  if ((def.type === 'array' || def.type === 'set') && Array.isArray(v)) {
    return (def.type === 'set' ? dedupeScalars(v) : v).map((x) => selectNested(def.elements, x, opts));
  }
  if (def.type === 'map' && isPlainObject(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, selectNested(def.values, x, opts)]));
  }
  return v;
}

/** Schema:process_auto_fields(data, "select") as the plugins iterator runs it (no `nulls`). */
function selectRecord(fields: readonly KongFieldEntry[], data: Record<string, unknown>, entityChain: boolean, opts: EncodeOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const refs: Record<string, unknown> = {};
  const resolve = (ref: string): string => opts.resolveReference?.(ref) ?? '';
  for (const entry of fields) {
    const [name, def] = entryOf(entry);
    const required = isRequired(def, entityChain);
    let v = data[name];
    if (v === null && required) v = missingValue(def, entityChain);
    if (def.type === 'record') {
      if (v !== null && (v !== undefined || required)) {
        v = v === undefined ? missingValue(def, entityChain) : v;
        if (isPlainObject(v)) v = selectRecord(def.fields ?? [], v, entityChain, opts);
      }
    } else {
      v = selectNested(def, v, opts);
    }
    if (v === undefined) v = missingValue(def, entityChain);
    if (v === null || v === undefined) continue;
    if (def.type === 'integer' && typeof v === 'number') v = Math.floor(v);
    if (opts.resolveReference !== undefined) {
      const elementRef = def.elements?.type === 'string' && def.elements.referenceable === true;
      const valueRef = def.values?.type === 'string' && def.values.referenceable === true;
      if (def.type === 'string' && def.referenceable === true && isReference(v)) {
        refs[name] = v;
        v = resolve(v as string);
      } else if ((def.type === 'array' || def.type === 'set') && elementRef && Array.isArray(v)) {
        const list = v;
        const found: Record<string, unknown> = {};
        v = list.map((x, i) => (isReference(x) ? ((found[i + 1] = x), resolve(x as string)) : x));
        if (Object.keys(found).length > 0) refs[name] = found;
      } else if (def.type === 'map' && valueRef && isPlainObject(v)) {
        const found: Record<string, unknown> = {};
        v = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isReference(x) ? ((found[k] = x), resolve(x as string)) : x]));
        if (Object.keys(found).length > 0) refs[name] = found;
      }
    }
    // Empty strings are dropped unless the field allows them (len_min = 0) or they come from a reference.
    if (def.type === 'string' && v === '' && (def.len_min ?? 1) > 0 && refs[name] === undefined) continue;
    out[name] = v;
  }
  if (Object.keys(refs).length > 0) out.$refs = refs;
  return out;
}

/**
 * lua-cjson as Kong configures it for cjson.safe (globalpatches.lua): numbers with 16 significant
 * digits, "/" escaped as "\/", DEL escaped. Arrays from schema-typed fields carry cjson.array_mt in
 * Kong, so an empty one is `[]`, as JSON.stringify writes it; records and maps are objects.
 */
export function cjsonEncode(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(16)) : v));
  return (json ?? 'null').replace(/\//g, '\\/').replace(/\u007f/g, '\\u007f');
}

/**
 * The `Config` string Kong sends in StartInstance: the stored config as the plugins iterator reads
 * it (nulls and empty strings removed, references resolved with `$refs`, unknown keys dropped),
 * plus Kong's per-instance keys (those that are nil in Lua are absent), cjson-encoded.
 */
export function encodeConfigForStartInstance(filled: Readonly<Record<string, unknown>>, extras: StartInstanceExtras, opts: EncodeOptions = {}): string {
  const base =
    opts.schema !== undefined
      ? selectRecord(opts.schema as readonly KongFieldEntry[], { ...filled }, true, opts)
      : (dropNulls(filled) as Record<string, unknown>);
  const conf: Record<string, unknown> = { ...base };
  for (const key of KONG_INSTANCE_KEYS) {
    const v = extras[key];
    if (v === null || v === undefined) delete conf[key];
    else conf[key] = v;
  }
  return cjsonEncode(conf);
}
