// The request path for an OpenAI-format upstream: read and check the body as Kong does, apply the
// configured model, options and credentials, point Kong's upstream at the provider, and record the
// request's metadata for Kong's log serializer while still in access (Kong's loggers run before an
// external plugin's log phase).
import type { KongPDK } from '../kong/pdk';
import { fail, JSON_HEADERS } from '../kong/fail';
import { readJsonBody } from '../kong/read-json-body';
import { checkRequest, type ResponseStreaming, type RouteType } from '../openai/validate-request';
import { OPENAI_PATHS } from '../providers/openai';
import { parseUpstreamUrl, resolveUrl } from '../providers/upstream';
import { planCredentialHeaders } from './credentials';

export interface ForwardConfig {
  readonly route_type: RouteType;
  readonly auth: {
    readonly header_name: string | null;
    readonly header_value: string | null;
    readonly param_name: string | null;
    readonly param_value: string | null;
    readonly param_location: 'query' | 'body' | null;
    readonly allow_override: boolean;
  } | null;
  readonly model: {
    readonly provider: string;
    readonly name: string | null;
    readonly options: {
      readonly max_tokens: number | null;
      readonly temperature: number | null;
      readonly top_p: number | null;
      readonly upstream_url: string | null;
      readonly upstream_path: string | null;
    } | null;
  };
  readonly logging: { readonly log_statistics: boolean; readonly log_payloads: boolean };
  readonly response_streaming: ResponseStreaming;
  readonly max_request_body_size: number;
}

/** Config options override request values (Kong's merge_config_defaults, 3.8+). */
function applyOptions(body: Record<string, unknown>, cfg: ForwardConfig, model: string | null): void {
  if (model !== null) body.model = model;
  const o = cfg.model.options;
  if (o?.max_tokens != null) body.max_tokens = o.max_tokens;
  if (o?.temperature != null) body.temperature = o.temperature;
  if (o?.top_p != null) body.top_p = o.top_p;
  if (cfg.response_streaming === 'always' && cfg.route_type !== 'llm/v1/embeddings') body.stream = true;
}

export async function forwardToOpenAICompatible(kong: KongPDK, cfg: ForwardConfig, pluginId: string | null = null): Promise<void> {
  const preserve = cfg.route_type === 'preserve';
  const auth = cfg.auth;
  let body: Record<string, unknown> | undefined;
  let requestModel: string | null = cfg.model.name;
  if (!preserve || auth?.param_location === 'body') {
    const read = await readJsonBody(kong, cfg.max_request_body_size);
    if (!read.ok) return fail(kong, read.status, read.message);
    body = read.body;
    if (!preserve) {
      const check = checkRequest(body, cfg.route_type, cfg.model.name, cfg.response_streaming);
      if (!check.ok) return fail(kong, check.status, check.message);
      requestModel = check.model;
      applyOptions(body, cfg, check.model);
    }
  }

  const clientHeaders = await kong.request.getHeaders();
  const plan = planCredentialHeaders(auth, clientHeaders);
  if (auth?.param_name && auth.param_value && auth.param_location === 'body' && body) {
    if (!(auth.allow_override && body[auth.param_name] !== undefined)) body[auth.param_name] = auth.param_value;
  }

  const o = cfg.model.options ?? { upstream_url: null, upstream_path: null };
  const target = parseUpstreamUrl(resolveUrl(o, 'https://api.openai.com', preserve ? '' : OPENAI_PATHS[cfg.route_type as keyof typeof OPENAI_PATHS]));
  // preserve without an override: the path is left to Kong (the route's stripped path on the service path).
  const path = preserve && o.upstream_url === null && o.upstream_path === null ? null : target.path;
  await kong.service.setTarget(target.host, target.port);
  await kong.service.request.setScheme(target.scheme);
  if (path !== null) await kong.service.request.setPath(path);
  if (auth?.param_name && auth.param_value && auth.param_location === 'query') {
    // The credential parameter replaces the client's query string.
    await kong.service.request.setRawQuery(`${encodeURIComponent(auth.param_name)}=${encodeURIComponent(auth.param_value)}`);
  }
  const headers = body ? { ...plan.set, ...JSON_HEADERS } : plan.set;
  if (Object.keys(headers).length > 0) await kong.service.request.setHeaders(headers);
  for (const h of plan.clear) await kong.service.request.clearHeader(h);
  if (body) await kong.service.request.setRawBody(JSON.stringify(body));
  if (cfg.logging.log_statistics) {
    await kong.log.setSerializeValue('ai.proxy.meta', {
      plugin_id: pluginId ?? '',
      provider_name: cfg.model.provider,
      request_model: requestModel ?? '',
    });
  }
}
