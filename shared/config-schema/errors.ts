// ConfigError and the translation of ajv errors into one-line messages in Kong's terms, each
// naming the field path: "config.model.options.temperature: must be between 0 and 5".

import type { ErrorObject } from 'ajv';

/** A plugin config Kong sent (or a test built) does not satisfy the plugin's declaration. */
export class ConfigError extends Error {
  /** One entry per problem, each "path: message". */
  readonly errors: readonly string[];
  constructor(errors: readonly string[]) {
    super(errors.join('; '));
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

const ARTICLE: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  array: 'an array',
  set: 'a set (array)',
  map: 'a map (object)',
  record: 'a record (object)',
  json: 'a JSON value',
};

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** "config" + JSON pointer -> "config.model.options[0]['x-y']" */
export function pathOf(root: string, pointer: string): string {
  if (pointer === '') return root;
  let out = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(seg)) out += `[${seg}]`;
    else if (IDENT.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** path + key, as `.key` or `["key"]`. */
export function child(path: string, key: string): string {
  return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function list(values: readonly unknown[]): string {
  return values.filter((v) => v !== null).map(String).join(', ');
}

type Schema = Readonly<Record<string, unknown>>;

function describeValue(v: unknown): string {
  const s = JSON.stringify(v);
  return s !== undefined && s.length > 60 ? `${s.slice(0, 57)}...` : String(s);
}

/** One message for one ajv error, or undefined for errors that only repeat another one. */
function message(e: ErrorObject, root: string): string | undefined {
  const parent: Schema = (e.parentSchema ?? {}) as Schema;
  const err = typeof parent.kongErr === 'string' ? parent.kongErr : undefined;
  const at = pathOf(root, e.instancePath);
  const p = e.params as Record<string, unknown>;
  // propertyNames reports the key's own error (with propertyName set) and then a summary.
  if (e.keyword === 'propertyNames') return undefined;
  const where = e.propertyName !== undefined ? `${at}: key ${JSON.stringify(e.propertyName)}` : at;
  switch (e.keyword) {
    case 'required':
      return `${child(at, String(p.missingProperty))}: required field missing`;
    case 'additionalProperties':
      return `${child(at, String(p.additionalProperty))}: unknown field`;
    case 'type': {
      if (e.data === null) return `${where}: required field missing`;
      const kind = typeof parent.kongType === 'string' ? parent.kongType : String(p.type).split(',')[0];
      return `${where}: expected ${ARTICLE[kind as string] ?? kind}`;
    }
    case 'enum':
      return `${where}: ${err ?? `expected one of: ${list(p.allowedValues as unknown[])}`}`;
    case 'minimum':
    case 'maximum': {
      if (typeof parent.minimum === 'number' && typeof parent.maximum === 'number') {
        return `${where}: ${err ?? `must be between ${parent.minimum} and ${parent.maximum}`}`;
      }
      return `${where}: ${err ?? `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)}`}`;
    }
    case 'exclusiveMinimum':
      return `${where}: ${err ?? `must be greater than ${String(p.limit)}`}`;
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      if (e.keyword === 'minLength' && p.limit === 1 && e.data === '') return `${where}: ${err ?? 'must not be empty'}`;
      return `${where}: ${err ?? `length must be at least ${String(p.limit)}`}`;
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return `${where}: ${err ?? `length must be at most ${String(p.limit)}`}`;
    case 'pattern':
      if (parent.kongRule === 'starts_with') return `${where}: ${err ?? `should start with: ${String(parent.kongArg)}`}`;
      if (parent.kongRule === 'match') {
        return `${where}: ${err ?? `invalid value ${describeValue(e.data)} (must match the Lua pattern ${String(parent.kongArg)})`}`;
      }
      return `${where}: ${err ?? `must match ${String(p.pattern)}`}`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

/** Messages for a list of ajv errors (with `verbose: true`), de-duplicated, in order. */
export function formatAjvErrors(errors: readonly ErrorObject[], root = 'config'): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const m = message(e, root);
    if (m !== undefined && !out.includes(m)) out.push(m);
  }
  return out;
}
