// defineConfig: one declaration of a plugin's config gives Kong's schema (`kongFields`, exported by
// the plugin module as `Schema`), a validator compiled once with ajv, and the config's TS type.

import Ajv, { type ValidateFunction } from 'ajv';
import type { AnyField, ConfigFromFields, FieldMap, RecordCheck } from './builders';
import { allOrNone, atLeastOneOf, mutuallyExclusive, onlyOneOf, type ConfigCheck } from './checks';
import { child, ConfigError, formatAjvErrors } from './errors';
import { applyDefaults } from './kong-defaults';
import { isPlainObject, KONG_INSTANCE_KEYS, type KongFieldEntry } from './kong-fields';
import { DeclarationError, toKongFields } from './to-kong';
import { ANNOTATION_KEYWORDS, fieldSchema, toJsonSchema, type JsonSchema } from './to-json-schema';

export type ValidationResult<C> = { readonly ok: true; readonly config: C } | { readonly ok: false; readonly errors: readonly string[] };

export interface ConfigDeclaration<F extends FieldMap> {
  readonly fields: F;
  /** The plugin module's `Schema` export: Kong's `config.fields`. */
  readonly kongFields: readonly KongFieldEntry[];
  /** The JSON Schema the validator was compiled from (for tooling). */
  readonly jsonSchema: JsonSchema;
  /**
   * Checks the config object an instance receives (Kong's per-instance keys accepted, nulls and
   * missing fields treated alike, defaults filled) and returns it typed, frozen, without Kong's
   * keys and `$refs`. Throws ConfigError naming every problem.
   */
  parse(raw: unknown): ConfigFromFields<F>;
  /** Same as parse, without throwing. */
  validate(raw: unknown): ValidationResult<ConfigFromFields<F>>;
}

/** The typed config of a declaration: `ConfigOf<typeof declaration>`. */
export type ConfigOf<D> = D extends ConfigDeclaration<infer F> ? ConfigFromFields<F> : never;

export interface DefineOptions<C> {
  /** Cross-field checks, run after the type checks pass, in order; all messages are reported. */
  readonly checks?: readonly ConfigCheck<C>[];
}

let sharedAjv: Ajv | undefined;

function ajv(): Ajv {
  if (sharedAjv === undefined) {
    // logger: false: nothing may reach stdout (Kong's query command reads the plugin server's stdout).
    sharedAjv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, logger: false });
    for (const keyword of ANNOTATION_KEYWORDS) sharedAjv.addKeyword(keyword);
  }
  return sharedAjv;
}

function checkDefaults(fields: FieldMap, path: string): void {
  for (const [name, field] of Object.entries(fields)) checkFieldDefault(field, `${path}.${name}`);
}

function checkFieldDefault(field: AnyField, path: string): void {
  const spec = field.spec;
  if (spec.opts.default !== undefined) {
    let value: unknown = spec.opts.default;
    if (spec.kind === 'record' && isPlainObject(value)) value = applyDefaults(toKongFields(spec.fields, path), value, { nullIsMissing: true });
    const validate = ajv().compile(fieldSchema(field, false));
    if (!validate(value)) {
      throw new DeclarationError(path, `invalid default ${JSON.stringify(spec.opts.default)}: ${formatAjvErrors(validate.errors ?? [], path).join('; ')}`);
    }
  }
  if (spec.kind === 'record') checkDefaults(spec.fields, path);
  else if (spec.kind === 'array' || spec.kind === 'set') checkFieldDefault(spec.elements, `${path}[]`);
  else if (spec.kind === 'map') checkFieldDefault(spec.values, `${path}{value}`);
}

type Visit = (record: Record<string, unknown>, checks: readonly RecordCheck[], path: string) => void;

/** Calls `visit` on the config and every nested record value (through records, arrays and maps). */
function forEachRecord(fields: FieldMap, data: Record<string, unknown>, path: string, visit: Visit): void {
  for (const [name, field] of Object.entries(fields)) {
    const spec = field.spec;
    const v = data[name];
    const p = child(path, name);
    if (spec.kind === 'record' && isPlainObject(v)) {
      visit(v, spec.opts.entity_checks ?? [], p);
      forEachRecord(spec.fields, v, p, visit);
    } else if ((spec.kind === 'array' || spec.kind === 'set' || spec.kind === 'map') && typeof v === 'object' && v !== null) {
      const inner = spec.kind === 'map' ? spec.values.spec : spec.elements.spec;
      if (inner.kind !== 'record') continue;
      for (const [k, item] of Object.entries(v)) {
        if (!isPlainObject(item)) continue;
        const ip = spec.kind === 'map' ? child(p, k) : `${p}[${k}]`;
        visit(item, inner.opts.entity_checks ?? [], ip);
        forEachRecord(inner.fields, item, ip, visit);
      }
    }
  }
}

const RECORD_CHECKERS: Readonly<Record<string, (...names: readonly string[]) => ConfigCheck<unknown>>> = {
  mutually_required: allOrNone,
  at_least_one_of: atLeastOneOf,
  only_one_of: onlyOneOf,
  mutually_exclusive: mutuallyExclusive,
};

function runRecordChecks(record: Record<string, unknown>, checks: readonly RecordCheck[], path: string, errors: string[]): void {
  for (const check of checks) {
    for (const [name, fieldNames] of Object.entries(check)) {
      const make = RECORD_CHECKERS[name];
      const m = make === undefined ? undefined : make(...(fieldNames as readonly string[]))(record);
      if (m !== undefined) errors.push(`${path}: ${m}`);
    }
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const item of Object.values(v)) deepFreeze(item);
  }
  return v;
}

function describe(raw: unknown): string {
  return raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw;
}

/**
 * Declares a plugin's config. Throws DeclarationError at once for a declaration Kong would refuse
 * (bad description length, a default that fails its own field, an unsupported Lua pattern...).
 */
export function defineConfig<const F extends FieldMap>(fields: F, options: DefineOptions<ConfigFromFields<F>> = {}): ConfigDeclaration<F> {
  type C = ConfigFromFields<F>;
  const kongFields = toKongFields(fields);
  const jsonSchema = toJsonSchema(fields);
  checkDefaults(fields, 'config');
  const validateFn: ValidateFunction = ajv().compile(jsonSchema);
  const checks = options.checks ?? [];

  function run(raw: unknown): ValidationResult<C> {
    if (!isPlainObject(raw)) return { ok: false, errors: [`config: expected a record (object), got ${describe(raw)}`] };
    const filled = applyDefaults(kongFields, raw, { nullIsMissing: true });
    if (!validateFn(filled)) return { ok: false, errors: formatAjvErrors(validateFn.errors ?? []) };
    for (const key of KONG_INSTANCE_KEYS) delete filled[key];
    delete filled.$refs;
    const errors: string[] = [];
    forEachRecord(fields, filled, 'config', (record, recordChecks, path) => {
      delete record.$refs;
      runRecordChecks(record, recordChecks, path, errors);
    });
    if (errors.length > 0) return { ok: false, errors };
    const config = filled as C;
    for (const check of checks) {
      const m = check(config);
      if (m !== undefined) errors.push(`config: ${m}`);
    }
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, config: deepFreeze(config) };
  }

  return {
    fields,
    kongFields,
    jsonSchema,
    parse(raw) {
      const r = run(raw);
      if (!r.ok) throw new ConfigError(r.errors);
      return r.config;
    },
    validate: run,
  };
}
