// A plugin declares its config once: Kong's schema, a compiled validator and the TS type follow.
export { str, int, num, bool, arr, set, map, record, json } from './builders';
export type { Field, AnyField, FieldMap, ConfigFromFields, ValueOf, StrOpts, NumOpts, BoolOpts, ListOpts, MapOpts, RecordOpts, RecordCheck, JsonOpts } from './builders';
export { defineConfig } from './define-config';
export type { ConfigDeclaration, ConfigOf, DefineOptions, ValidationResult } from './define-config';
export { allOrNone, atLeastOneOf, onlyOneOf, mutuallyExclusive, isSet } from './checks';
export type { ConfigCheck } from './checks';
export { ConfigError } from './errors';
export { DeclarationError, toKongFields } from './to-kong';
export { toJsonSchema } from './to-json-schema';
export type { JsonSchema } from './to-json-schema';
export { applyDefaults } from './kong-defaults';
export type { FillOptions, KongFieldsSource } from './kong-defaults';
export { instanceMeta, KONG_INSTANCE_KEYS } from './kong-fields';
export type { KongFieldDef, KongFieldEntry, KongType, KongInstanceMeta, KongInstanceKey, JsonValue, JsonObject } from './kong-fields';
export { luaPatternToRegExp, LuaPatternError } from './lua-pattern';
