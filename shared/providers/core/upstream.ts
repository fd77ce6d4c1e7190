// Where a provider is reached: scheme, host, port and path, from its default base URL or the operator's
// upstream_url / upstream_path override.
import { TranslationError, type TargetContext } from './types';

export interface UpstreamTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
}

/**
 * Parses an absolute http(s) URL into a target. Kong's own code defaults the port to 443 even for
 * http:// URLs (a quirk, docs/kong-ai-plugins.md §2.4); we use the scheme's port, as any client would.
 * Kong drops the URL's query string; so do we.
 */
export function parseUpstreamUrl(url: string): UpstreamTarget {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`upstream URL must be http or https: ${url}`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return {
    scheme,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80,
    path: normalisePath(u.pathname),
  };
}

/**
 * One path segment from a value a client may choose (a model name): percent-encoded as SigV4's canonical
 * form wants (RFC 3986). `.` and `..` are refused: URL parsers resolve them (`%2E%2E` too), and the path
 * would walk up to another of the provider's operations.
 */
export function encodePathSegment(s: string): string {
  if (s === '.' || s === '..') throw new TranslationError(`'${s}' cannot name a model`);
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A path starts with exactly one slash. */
export function normalisePath(path: string): string {
  return `/${path.replace(/^\/+/, '')}`;
}

/**
 * A provider's URL for one call: its default base and operation path, unless the config overrides them.
 * `upstream_url` replaces base and path (its query string is dropped, as Kong does); `upstream_path`
 * replaces the operation path. `query` is appended (Gemini's `alt=sse`, Azure's `api-version`).
 */
export function resolveUrl(o: { upstream_url: string | null; upstream_path: string | null }, base: string, operation: string,
  query: Record<string, string> = {}): string {
  // The same few URLs come back on every request of a config: parsing them once is worth a lookup.
  const keys = Object.keys(query);
  const key = `${o.upstream_url}\u0000${o.upstream_path}\u0000${base}\u0000${operation}${keys.length === 0 ? '' : `\u0000${JSON.stringify(query)}`}`;
  const known = resolved.get(key);
  if (known !== undefined) return known;
  const url = buildUrl(o, base, operation, query);
  // Templated URLs can take many values: the cache is bounded, and starts over when full.
  if (resolved.size >= MAX_RESOLVED) resolved.clear();
  resolved.set(key, url);
  return url;
}

const MAX_RESOLVED = 1000;
const resolved = new Map<string, string>();

function buildUrl(o: { upstream_url: string | null; upstream_path: string | null }, base: string, operation: string,
  query: Record<string, string>): string {
  const root = o.upstream_url !== null ? parseUpstreamUrl(o.upstream_url) : parseUpstreamUrl(base);
  const path = o.upstream_path !== null ? normalisePath(o.upstream_path)
    : o.upstream_url !== null ? root.path
    : normalisePath(`${root.path === '/' ? '' : root.path}${operation}`);
  const defaultPort = root.scheme === 'https' ? 443 : 80;
  const host = root.host.includes(':') ? `[${root.host}]` : root.host;
  const u = new URL(`${root.scheme}://${host}${root.port === defaultPort ? '' : `:${root.port}`}${path}`);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * The URL of a self-hosted upstream named by `upstream_url` (required, as in Kong). Kong uses the URL's
 * path for every route type; we do too, except that a URL with no path (`http://ollama:11434`) gets the
 * route's default operation path, so one base URL serves chat, completions and embeddings.
 */
export function upstreamUrlWithDefaultPath(ctx: TargetContext, operation: string): string {
  const o = ctx.options;
  if (o.upstream_url === null) {
    throw new TranslationError(`${ctx.provider} in this format requires model.options.upstream_url`);
  }
  if (o.upstream_path === null && parseUpstreamUrl(o.upstream_url).path === '/') {
    return resolveUrl({ upstream_url: null, upstream_path: null }, o.upstream_url, operation);
  }
  return resolveUrl(o, o.upstream_url, operation);
}
