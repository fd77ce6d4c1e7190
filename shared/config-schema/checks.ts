// Cross-field checks a plugin server cannot declare to Kong (Kong only reads `config.fields`, not
// entity_checks), written as plain functions run after the type checks. These helpers give
// Kong's own entity checks, with Kong's messages, over dotted paths such as "auth.header_name".

/** Returns an error message, or undefined when the config is fine. */
export type ConfigCheck<C> = (config: C) => string | undefined;

function get(config: unknown, path: string): unknown {
  let v: unknown = config;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Kong's is_nonempty: not null, not "", not an empty array or object. */
export function isSet(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function quoted(paths: readonly string[]): string {
  return paths.map((p) => `'${p}'`).join(', ');
}

/** Kong's `mutually_required`: all or none of these fields must be set. */
export function allOrNone(...paths: readonly string[]): ConfigCheck<unknown> {
  return (config) => {
    const n = paths.filter((p) => isSet(get(config, p))).length;
    return n === 0 || n === paths.length ? undefined : `all or none of these fields must be set: ${quoted(paths)}`;
  };
}

/** Kong's `at_least_one_of`. */
export function atLeastOneOf(...paths: readonly string[]): ConfigCheck<unknown> {
  return (config) =>
    paths.some((p) => isSet(get(config, p))) ? undefined : `at least one of these fields must be non-empty: ${quoted(paths)}`;
}

/** Kong's `only_one_of`: exactly one of these fields must be set. */
export function onlyOneOf(...paths: readonly string[]): ConfigCheck<unknown> {
  return (config) =>
    paths.filter((p) => isSet(get(config, p))).length === 1
      ? undefined
      : `exactly one of these fields must be non-empty: ${quoted(paths)}`;
}

/** Kong's `mutually_exclusive`: at most one of these fields may be set. */
export function mutuallyExclusive(...paths: readonly string[]): ConfigCheck<unknown> {
  return (config) =>
    paths.filter((p) => isSet(get(config, p))).length <= 1
      ? undefined
      : `only one or none of these fields must be set: ${quoted(paths)}`;
}
