// What Kong's schema code sees in a plugin's schema and config, shared by the metaschema check, config
// validation and the StartInstance encoding: JSON values read as Lua tables, and the fields type.
import { isPlainObject } from '../../shared/config-schema/kong-fields';

/** Fields as found in plugin info: `Schema.fields[0].config.fields` (the module's `Schema`). */
export type SchemaFields = readonly unknown[];

/** A JSON value as a Lua sequence: arrays, and the empty object (cjson decodes {} to an empty table). */
export function luaSequence(v: unknown): readonly unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (isPlainObject(v) && Object.keys(v).length === 0) return [];
  return undefined;
}

/** A vault reference (`{vault://...}`), which a referenceable field may hold instead of its value. */
export function isReference(v: unknown): boolean {
  return typeof v === 'string' && /^\{vault:\/\/[^}]+\}$/.test(v);
}

/** A field's dotted path in problem messages. */
export function fieldPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

/** The field names an entity check lists. */
export function entityNames(arg: unknown): string[] {
  return (luaSequence(arg) ?? []).filter((x): x is string => typeof x === 'string');
}
