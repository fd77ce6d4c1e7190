// The JSON shape of Kong's schema language, as a plugin server hands it to Kong (module.Schema),
// and the per-instance keys Kong adds to every plugin config it sends (StartInstance).

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Kong types usable from a plugin server (`foreign` and `function` exist but cannot come from JSON). */
export type KongType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'set' | 'map' | 'record' | 'json';

/** One field definition in Kong's schema language (the subset this project emits). */
export interface KongFieldDef {
  readonly type: KongType;
  readonly required?: boolean;
  readonly default?: JsonValue;
  readonly description?: string;
  readonly referenceable?: boolean;
  readonly encrypted?: boolean;
  readonly err?: string;
  readonly one_of?: readonly (string | number)[];
  readonly between?: readonly [number, number];
  readonly gt?: number;
  readonly len_min?: number;
  readonly len_max?: number;
  readonly starts_with?: string;
  /** A Lua pattern (string.match), not a regular expression. */
  readonly match?: string;
  readonly elements?: KongFieldDef;
  readonly keys?: KongFieldDef;
  readonly values?: KongFieldDef;
  readonly fields?: readonly KongFieldEntry[];
  readonly json_schema?: { readonly inline: JsonObject };
  /** Cross-field checks on a record: `[{ mutually_required: ["a", "b"] }]`. */
  readonly entity_checks?: readonly { readonly [checker: string]: readonly string[] }[];
}

/** An entry of a `fields` array: an object with exactly one key, the field name. */
export interface KongFieldEntry {
  readonly [name: string]: KongFieldDef;
}

/**
 * Keys Kong adds at the top level of every plugin config (runloop/plugins_iterator.lua,
 * get_plugin_config). Keys whose value is nil in Lua (no route, no instance name...) are absent
 * from the JSON, not null.
 */
export const KONG_INSTANCE_KEYS = [
  'route_id',
  'service_id',
  'consumer_id',
  'plugin_instance_name',
  '__plugin_id',
  '__ws_id',
  '__key__',
  '__seq__',
] as const;
export type KongInstanceKey = (typeof KONG_INSTANCE_KEYS)[number];

/** Kong's per-instance keys, as a plugin reads them (absent keys become null). */
export interface KongInstanceMeta {
  readonly routeId: string | null;
  readonly serviceId: string | null;
  readonly consumerId: string | null;
  readonly instanceName: string | null;
  /** `__plugin_id`: the plugin entity's id. */
  readonly pluginId: string | null;
  /** `__ws_id`: the workspace id. */
  readonly workspaceId: string | null;
  /** `__key__`: the plugin's cache key, "plugins:<name>:<route>:<service>:<consumer>::<ws>". */
  readonly key: string | null;
  /** `__seq__`: changes whenever Kong rebuilds its plugin configs. */
  readonly seq: number | null;
}

/** Reads Kong's per-instance keys from a raw config object; anything missing or mistyped is null. */
export function instanceMeta(raw: unknown): KongInstanceMeta {
  const o: Readonly<Record<string, unknown>> = isPlainObject(raw) ? raw : {};
  const s = (k: KongInstanceKey): string | null => (typeof o[k] === 'string' ? (o[k] as string) : null);
  const seq = o.__seq__;
  return {
    routeId: s('route_id'),
    serviceId: s('service_id'),
    consumerId: s('consumer_id'),
    instanceName: s('plugin_instance_name'),
    pluginId: s('__plugin_id'),
    workspaceId: s('__ws_id'),
    key: s('__key__'),
    seq: typeof seq === 'number' && Number.isFinite(seq) ? seq : null,
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The single [name, def] pair of a fields-array entry. */
export function entryOf(entry: KongFieldEntry): [string, KongFieldDef] {
  const name = Object.keys(entry)[0] as string;
  return [name, entry[name] as KongFieldDef];
}
