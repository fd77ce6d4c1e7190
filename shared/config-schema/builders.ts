// Typed builders for a plugin's configuration. Each builder returns a `Field` that carries its Kong
// definition (options as given) and, at the type level only, the TypeScript type of its value and
// whether Kong always delivers a value (required, has a default, or is a record Kong expands).

import type { JsonObject, JsonPrimitive, JsonValue } from './kong-fields';

declare const phantom: unique symbol;

interface BaseOpts {
  /** Kong refuses a config without this field (no default given). */
  readonly required?: boolean;
  /** Shown in Kong's schema endpoint; Kong requires 10 to 500 bytes. */
  readonly description?: string;
  /** Replaces the validators' error message (Kong's `err` attribute). */
  readonly err?: string;
}

export interface StrOpts extends BaseOpts {
  readonly default?: string;
  readonly one_of?: readonly string[];
  /** Kong's strings must be non-empty unless `len_min: 0`. */
  readonly len_min?: number;
  readonly len_max?: number;
  readonly starts_with?: string;
  /** A Lua pattern (Kong applies `string.match`); translated to a RegExp for the runtime check. */
  readonly match?: string;
  /** Allows `{vault://...}` references, which Kong resolves before the plugin sees the value. */
  readonly referenceable?: boolean;
  /** Encrypted at rest (Kong Enterprise keyring only). */
  readonly encrypted?: boolean;
}

export interface NumOpts extends BaseOpts {
  readonly default?: number;
  readonly one_of?: readonly number[];
  /** Inclusive [min, max]. */
  readonly between?: readonly [number, number];
  /** Exclusive lower bound. */
  readonly gt?: number;
}

export interface BoolOpts extends BaseOpts {
  readonly default?: boolean;
}

type DefaultOf<T> = [T] extends [JsonPrimitive] ? T : JsonValue;

export interface ListOpts<T> extends BaseOpts {
  readonly default?: readonly DefaultOf<T>[];
  readonly len_min?: number;
  readonly len_max?: number;
}

export interface MapOpts<V> extends BaseOpts {
  readonly default?: { readonly [key: string]: DefaultOf<V> };
  readonly len_min?: number;
  readonly len_max?: number;
}

/**
 * A cross-field check Kong runs on a nested record (field-level `entity_checks`; Kong's own
 * gemini options use `mutually_required`), over the record's own field names. We run it too.
 */
export type RecordCheck<K extends string = string> =
  | { readonly mutually_required: readonly K[] }
  | { readonly at_least_one_of: readonly K[] }
  | { readonly only_one_of: readonly K[] }
  | { readonly mutually_exclusive: readonly K[] };

export interface RecordOpts<K extends string = string> extends BaseOpts {
  /**
   * Records are required unless `required: false`, as Kong makes them (Entity.new_subschema,
   * make_records_required): a required record left out is filled with its fields' defaults.
   */
  readonly required?: boolean;
  readonly default?: JsonObject;
  readonly entity_checks?: readonly RecordCheck<K>[];
}

export interface JsonOpts extends BaseOpts {
  readonly default?: JsonValue;
}

export type FieldSpec =
  | { readonly kind: 'string'; readonly opts: StrOpts }
  | { readonly kind: 'integer' | 'number'; readonly opts: NumOpts }
  | { readonly kind: 'boolean'; readonly opts: BoolOpts }
  | { readonly kind: 'array' | 'set'; readonly elements: AnyField; readonly opts: ListOpts<unknown> }
  | { readonly kind: 'map'; readonly keys: AnyField; readonly values: AnyField; readonly opts: MapOpts<unknown> }
  | { readonly kind: 'record'; readonly fields: FieldMap; readonly opts: RecordOpts }
  | { readonly kind: 'json'; readonly inline: JsonObject; readonly opts: JsonOpts };

/** A declared field. `T` is its value's type; `NonNull` is true when Kong always sends a value. */
export interface Field<T, NonNull extends boolean = boolean> {
  readonly spec: FieldSpec;
  readonly [phantom]?: { readonly value: T; readonly nonNull: NonNull };
}

export type AnyField = Field<unknown, boolean>;
export interface FieldMap {
  readonly [name: string]: AnyField;
}

export type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The typed config a plugin gets for a set of fields: nullable unless Kong always sends a value. */
export type ConfigFromFields<F extends FieldMap> = Simplify<{
  readonly [K in keyof F]: F[K] extends Field<infer T, infer N> ? (N extends true ? T : T | null) : never;
}>;

type HasDefault<O> = O extends { readonly default: infer D } ? ([D] extends [undefined] ? false : true) : false;
type NonNullOf<O> = O extends { readonly required: true } ? true : HasDefault<O>;
type RecordNonNull<O> = O extends { readonly required: false } ? HasDefault<O> : true;
type OneOf<O, Base> = O extends { readonly one_of: readonly (infer L)[] } ? (L extends Base ? L : Base) : Base;

function make<T, N extends boolean>(spec: FieldSpec): Field<T, N> {
  return { spec };
}

/** A string. `one_of` narrows the type to its literals. */
export function str<const O extends StrOpts = {}>(opts?: O): Field<OneOf<O, string>, NonNullOf<O>> {
  return make({ kind: 'string', opts: opts ?? {} });
}

/** An integer (Kong checks `value == floor(value)`). */
export function int<const O extends NumOpts = {}>(opts?: O): Field<OneOf<O, number>, NonNullOf<O>> {
  return make({ kind: 'integer', opts: opts ?? {} });
}

/** A number. */
export function num<const O extends NumOpts = {}>(opts?: O): Field<OneOf<O, number>, NonNullOf<O>> {
  return make({ kind: 'number', opts: opts ?? {} });
}

export function bool<const O extends BoolOpts = {}>(opts?: O): Field<boolean, NonNullOf<O>> {
  return make({ kind: 'boolean', opts: opts ?? {} });
}

/** An array; its elements are never null. */
export function arr<E extends AnyField, const O extends ListOpts<ValueOf<E>> = {}>(
  elements: E,
  opts?: O,
): Field<readonly ValueOf<E>[], NonNullOf<O>> {
  return make({ kind: 'array', elements, opts: opts ?? {} });
}

/** A set: an array that Kong de-duplicates when it stores it. */
export function set<E extends AnyField, const O extends ListOpts<ValueOf<E>> = {}>(
  elements: E,
  opts?: O,
): Field<readonly ValueOf<E>[], NonNullOf<O>> {
  return make({ kind: 'set', elements, opts: opts ?? {} });
}

/** A map from string keys (declared with `str(...)`) to values. */
export function map<V extends AnyField, const O extends MapOpts<ValueOf<V>> = {}>(
  keys: Field<string, boolean>,
  values: V,
  opts?: O,
): Field<{ readonly [key: string]: ValueOf<V> }, NonNullOf<O>> {
  return make({ kind: 'map', keys, values, opts: opts ?? {} });
}

/** A nested record. Required (and so always present) unless `required: false`. */
export function record<const F extends FieldMap, const O extends RecordOpts<keyof F & string> = {}>(
  fields: F,
  opts?: O,
): Field<ConfigFromFields<F>, RecordNonNull<O>> {
  return make({ kind: 'record', fields, opts: opts ?? {} });
}

/** Free-form JSON checked against an inline JSON Schema (Kong's `json` type; Kong 3.6+). */
export function json<const O extends JsonOpts = {}>(inline: JsonObject, opts?: O): Field<JsonValue, NonNullOf<O>> {
  return make({ kind: 'json', inline, opts: opts ?? {} });
}
