// Kong's model templating (3.7+, kong/llm/drivers/shared.lua merge_model_options as of master): in every
// string of `config.model` except `provider` (name, options and nested option records), the first
// `$(source.key)` is replaced by a value of the request, the text around it kept. Sources: `headers`,
// `query_params`, `uri_captures` (the route's named regex captures). Kong's messages on failure (400).
import type { TargetConfig } from './context';

export interface TemplateSources {
  /** The request's headers as Node gives them: lower-case names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  query: URLSearchParams;
  uriCaptures: Readonly<Record<string, string>> | null;
}

export type TemplateResult<T> = { ok: true; value: T } | { ok: false; message: string };

const EXPRESSION = /\$\((.*?)\)/;

/** Whether any string of the model record uses a source (access reads uri captures only when needed). */
export function usesTemplateSource(model: TargetConfig['model'], source: 'uri_captures' | 'headers' | 'query_params'): boolean {
  const needle = `$(${source}.`;
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return v.includes(needle);
    if (v !== null && typeof v === 'object') return Object.values(v).some(walk);
    return false;
  };
  return walk(model.name) || walk(model.options);
}

/** Whether the model record has any template at all (the relay skips the walk otherwise). */
export function hasTemplates(model: TargetConfig['model']): boolean {
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return EXPRESSION.test(v);
    if (v !== null && typeof v === 'object') return Object.values(v).some(walk);
    return false;
  };
  return walk(model.name) || walk(model.options);
}

function lookup(source: string, key: string, s: TemplateSources): TemplateResult<string | undefined> {
  switch (source) {
    case 'headers': {
      // kong.request.get_header: case-insensitive, `_` read as `-`, the first value.
      const v = s.headers[key.toLowerCase().replace(/_/g, '-')];
      return { ok: true, value: Array.isArray(v) ? v[0] : v };
    }
    case 'query_params': {
      // kong.request.get_query_arg: the first value. (A flag without a value is Lua's `true` there, which
      // Kong cannot splice into a string: a 500. Here it is the empty string.)
      const v = s.query.get(key);
      return { ok: true, value: v === null ? undefined : v };
    }
    case 'uri_captures':
      return { ok: true, value: s.uriCaptures?.[key] };
    default:
      return { ok: false, message: `source '${source}' is not supported` };
  }
}

function render(v: string, s: TemplateSources): TemplateResult<string> {
  const m = EXPRESSION.exec(v);
  if (!m) return { ok: true, value: v };
  const parts = m[1]!.split('.');
  if (parts.length !== 2) return { ok: false, message: `cannot parse expression for field '${v}'` };
  const [source, key] = parts as [string, string];
  const found = lookup(source, key, s);
  if (!found.ok) return found;
  if (found.value === undefined) return { ok: false, message: `${source} key ${key} was not provided` };
  return { ok: true, value: v.slice(0, m.index) + found.value + v.slice(m.index + m[0].length) };
}

function renderDeep(v: unknown, s: TemplateSources): TemplateResult<unknown> {
  if (typeof v === 'string') return render(v, s);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: true, value: v };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const r = renderDeep(x, s);
    if (!r.ok) return r;
    out[k] = r.value;
  }
  return { ok: true, value: out };
}

/**
 * The model record with its templates resolved. The provider is never templated: the driver always
 * comes from the configured provider (Kong's own safety rule), and so does everything keyed on it.
 */
export function resolveModel(model: TargetConfig['model'], s: TemplateSources): TemplateResult<TargetConfig['model']> {
  const name = model.name === null ? { ok: true as const, value: null } : render(model.name, s);
  if (!name.ok) return name;
  const options = renderDeep(model.options, s);
  if (!options.ok) return options;
  return { ok: true, value: { provider: model.provider, name: name.value, options: options.value as TargetConfig['model']['options'] } };
}
