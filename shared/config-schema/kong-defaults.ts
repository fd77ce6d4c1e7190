// Kong's default filling for a plugin config, transcribed from Kong 3.9 kong/db/schema/init.lua
// (Schema:process_auto_fields in the "insert" context, adjust_field_for_context,
// handle_missing_field) and kong/db/schema/entity.lua (make_records_required). Same in 3.6-3.9.
//
// - A missing field gets a deep copy of its default; else null if not required; else, for a record,
//   the record expanded with its own defaults; else it stays missing (Kong then reports
//   "required field missing").
// - Records reached from the config through record fields are required unless they say
//   `required = false` (make_records_required). Records inside array elements or map values are
//   not touched by that rule.
// - A record that is present (or missing but required) is processed recursively; a missing
//   non-required record with a default gets the default as is, unprocessed.
// - An explicit null is kept (a nullable record stays null), except with `nullIsMissing`.
// - Array and set elements and map values are processed too; sets lose duplicate scalar values.
// - Keys not in the schema are kept (Kong's validation refuses them later).

import { randomBytes, randomUUID } from 'node:crypto';
import { entryOf, isPlainObject, type KongFieldDef, type KongFieldEntry } from './kong-fields';

export interface FillOptions {
  /**
   * Treat null like a missing value. That is what a plugin sees: Kong strips nulls before sending
   * the config (process_auto_fields "select" without `nulls`), so a null can only mean "unset".
   */
  readonly nullIsMissing?: boolean;
  /**
   * Kong's make_records_required rule, which applies to plugin configs (default true). False gives
   * a plain Schema's behaviour, as when Kong's metaschema checks a record's default.
   */
  readonly recordsRequired?: boolean;
}

/** Fields as Kong reads them: either a `fields` array or a declaration that has one. */
export type KongFieldsSource = readonly KongFieldEntry[] | { readonly kongFields: readonly KongFieldEntry[] };

type Mutable = Record<string, unknown>;

/** Whether Kong treats the field as required; `entityChain` = reached through record fields only. */
export function isRequired(def: KongFieldDef, entityChain: boolean): boolean {
  if (def.type === 'record' && entityChain && def.required === undefined) return true;
  return def.required === true;
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** handle_missing_field: the value Kong puts in place of a missing field (undefined = stays missing). */
export function missingValue(def: KongFieldDef, entityChain: boolean, opts: FillOptions = {}): unknown {
  if (def.default !== undefined) return clone(def.default);
  if (!isRequired(def, entityChain)) return null;
  if (def.type === 'record') return fillRecord(def.fields ?? [], {}, entityChain, opts);
  return undefined;
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<unknown>();
  return values.filter((v) => {
    if (v === null || typeof v === 'object') return true;
    if (seen.has(v)) return false;
    seen.add(v);
    return true;
  });
}

function adjust(def: KongFieldDef, value: unknown, entityChain: boolean, opts: FillOptions): unknown {
  if (opts.nullIsMissing === true && value === null) value = undefined;
  const required = isRequired(def, entityChain);
  if (def.type === 'record') {
    if (value !== null && (value !== undefined || required)) {
      const v = value === undefined ? missingValue(def, entityChain, opts) : value;
      if (isPlainObject(v)) return fillRecord(def.fields ?? [], v, entityChain, opts);
      value = v;
    }
  } else if ((def.type === 'array' || def.type === 'set') && Array.isArray(value)) {
    const elements = def.elements;
    let items = def.type === 'set' ? dedupe(value) : value;
    if (elements !== undefined) items = items.map((v) => adjust(elements, v, false, opts));
    value = items;
  } else if (def.type === 'map' && isPlainObject(value) && def.values !== undefined) {
    const values = def.values;
    for (const [k, v] of Object.entries(value)) value[k] = adjust(values, v, false, opts);
  }
  if (value === undefined) return missingValue(def, entityChain, opts);
  return value;
}

function autoValue(name: string, def: KongFieldDef & { auto?: boolean; uuid?: boolean }, value: unknown): unknown {
  if (def.auto !== true) return value;
  if (def.uuid === true) return value === undefined ? randomUUID() : value;
  if (def.type === 'string') return value === undefined ? randomBytes(24).toString('base64url') : value;
  if ((name === 'created_at' && (value === undefined || value === null)) || name === 'updated_at') {
    return def.type === 'integer' ? Math.floor(Date.now() / 1000) : def.type === 'number' ? Date.now() / 1000 : value;
  }
  return value;
}

/** Processes one record in place (its data is already a private copy). */
function fillRecord(fields: readonly KongFieldEntry[], data: Mutable, entityChain: boolean, opts: FillOptions): Mutable {
  for (const entry of fields) {
    const [name, def] = entryOf(entry);
    const value = adjust(def, autoValue(name, def, data[name]), entityChain, opts);
    if (value === undefined) delete data[name];
    else data[name] = value;
  }
  return data;
}

function fieldsOf(source: KongFieldsSource): readonly KongFieldEntry[] {
  return 'kongFields' in source ? source.kongFields : source;
}

/**
 * What Kong stores for a plugin whose admin API body gave `config` as here (null or undefined:
 * no config given). Does not modify its input. Does not validate: a required field without a
 * default stays missing, unknown keys stay.
 */
export function applyDefaults(
  source: KongFieldsSource,
  config: Readonly<Record<string, unknown>> | null | undefined,
  opts: FillOptions = {},
): Record<string, unknown> {
  // The plugin's `config` record is itself required (make_records_required on the subschema).
  const data: Mutable = config === null || config === undefined ? {} : structuredClone(config as Mutable);
  return fillRecord(fieldsOf(source), data, opts.recordsRequired ?? true, opts);
}
