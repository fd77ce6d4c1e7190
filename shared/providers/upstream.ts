// Where a provider is reached: scheme, host, port and path, from its default base URL or the operator's
// upstream_url / upstream_path override.
export interface UpstreamTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
}

/**
 * Parses an absolute http(s) URL into a target. Kong's own code defaults the port to 443 even for
 * http:// URLs (a quirk, kong-ai-plugins.md §2.4); we use the scheme's port, as any client would.
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

/** A path starts with exactly one slash. */
export function normalisePath(path: string): string {
  return `/${path.replace(/^\/+/, '')}`;
}
