// OpenAI and OpenAI-compatible upstreams: the body is already in the provider's format, so only the
// upstream coordinates and the auth header are the provider's own.
import type { RouteType } from '../openai/validate-request';
import { normalisePath, parseUpstreamUrl, type UpstreamTarget } from './upstream';

const OPENAI_BASE = 'https://api.openai.com:443';

const PATHS: Record<Exclude<RouteType, 'preserve'>, string> = {
  'llm/v1/chat': '/v1/chat/completions',
  'llm/v1/completions': '/v1/completions',
  'llm/v1/embeddings': '/v1/embeddings',
};

export interface UpstreamOptions {
  upstream_url: string | null;
  upstream_path: string | null;
}

/**
 * `upstream_url` replaces base and path; `upstream_path` replaces the operation path. In preserve mode
 * without either, the path is left to Kong (the route's stripped path on the service path): `path` is null.
 */
export function openaiTarget(routeType: RouteType, o: UpstreamOptions): Omit<UpstreamTarget, 'path'> & { path: string | null } {
  const base = parseUpstreamUrl(o.upstream_url ?? OPENAI_BASE);
  const operation = routeType === 'preserve' ? null : PATHS[routeType];
  const path = o.upstream_path !== null ? normalisePath(o.upstream_path)
    : o.upstream_url !== null ? base.path
    : operation;
  return { ...base, path };
}
