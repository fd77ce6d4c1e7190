// From a handed-over request to one target's provider call: Kong's checks in Kong's order and with its
// messages (templating, prompts, model, format, streaming; docs/kong-ai-plugins.md §2.2), the options the
// config imposes, the credential allow_override permits, and the provider's own request (buildRequest).
// ai-proxy-advanced prepares a call anew for every target it tries: each provider gets its own format.
import type { ClientRouteType, RouteType } from '../openai/types';
import { checkRequest } from '../openai/validate-request';
import { configuredMaxTokens } from '../providers/openai-format/request';
import { getProvider } from '../providers/core/registry';
import { routeRequest } from '../providers/core/route-request';
import { NO_OPTIONS, type ModelOptions, type Provider, type TargetContext, type UpstreamRequest } from '../providers/core/types';
import { effectiveAuth, forwardableHeaders, type IncomingHeaders } from './client-headers';
import type { RelayContext, TargetConfig } from './context';
import { prepareNativeCall } from './native-call';
import { responsesToChat } from '../responses/to-chat';
import type { ResponsesRequest } from '../responses/types';
import { buildProviderRequest } from './provider-request';
import { hasTemplates, resolveModel } from './templating';

export interface ClientRequest {
  headers: IncomingHeaders;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface ProviderCall {
  provider: Provider;
  ctx: TargetContext;
  request: UpstreamRequest;
  /** The target after templating. */
  target: TargetConfig;
  /** The model named to the client and in logs (configured, templated, or the body's). */
  model: string;
  stream: boolean;
  body: Readonly<Record<string, unknown>>;
  /**
   * On an llm/v1/responses route: the client's request. A provider that speaks the Responses API gets it
   * passed through (the call's route type is then `preserve`); for any other the call is chat and its
   * answer is turned back into a response (shared/responses/).
   */
  responses?: ResponsesRequest;
}

/**
 * Why no call could be prepared: the client's request is wrong ('client': never retried elsewhere,
 * another target would say the same), this target cannot express it ('translation': a 400 from the
 * provider's translation, another target may), the target's credential could not be had
 * ('credential': Kong's 500 "LLM request failed before proxying"), or the translation broke on a
 * request the schema let through ('internal': our bug, logged with its stack; another target may).
 */
export type PrepareFailure = 'client' | 'translation' | 'credential' | 'internal';

export type Prepared =
  | { ok: true; call: ProviderCall }
  | { ok: false; why: PrepareFailure; status: number; message: string; code?: string; param?: string; cause?: unknown };

/** Every option, defaults filled in, once per configured (or templated) options object; frozen, as it is shared. */
const completeOptions = new WeakMap<object, ModelOptions>();

function optionsOf(model: TargetConfig['model']): ModelOptions {
  if (!model.options) return NO_OPTIONS;
  let o = completeOptions.get(model.options);
  if (!o) {
    o = Object.freeze({ ...NO_OPTIONS, ...model.options });
    completeOptions.set(model.options, o);
  }
  return o;
}

/**
 * The route type the provider is called with: a Responses API request goes as it is to a provider that
 * speaks that API (a pass-through, like preserve), and as chat to every other.
 */
export function providerRouteType(provider: Provider, routeType: ClientRouteType): RouteType {
  if (routeType !== 'llm/v1/responses') return routeType;
  return provider.buildResponsesRequest ? 'preserve' : 'llm/v1/chat';
}

/** Whether the provider serves the route type in the format these options name. */
export function providerServes(provider: Provider, clientRoute: ClientRouteType, options: ModelOptions): boolean {
  const routeType = providerRouteType(provider, clientRoute);
  return provider.routeTypes.includes(routeType) && (provider.serves?.(routeType, options) ?? true);
}

/** The configuration check's view of `providerServes`: the same rule, asked of a configured target. */
export function targetServesRouteType(target: TargetConfig): boolean {
  return providerServes(getProvider(target.model.provider), target.route_type, optionsOf(target.model));
}

/** Config options override the request's (Kong's merge_config_defaults since 3.8). */
function applyOptions(body: Record<string, unknown>, o: ModelOptions, responsesApi = false): void {
  if (o.max_tokens !== null) Object.assign(body, responsesApi ? { max_output_tokens: o.max_tokens } : configuredMaxTokens(body, o.max_tokens));
  if (o.temperature !== null) body.temperature = o.temperature;
  if (o.top_p !== null) body.top_p = o.top_p;
  // OpenAI's Responses API has no top_k (a chat body loses it in openai-format/request.ts).
  if (o.top_k !== null && !responsesApi) body.top_k = o.top_k;
}

export async function prepareCall(configured: TargetConfig, rc: RelayContext, client: ClientRequest, requestId: string,
  env: Readonly<Record<string, string | undefined>>): Promise<Prepared> {
  if (rc.llmFormat !== undefined) return prepareNativeCall(rc.llmFormat, configured, rc, client, requestId, env);
  let model = configured.model;
  if (hasTemplates(model)) {
    const t = resolveModel(model, { headers: client.headers, query: client.query, uriCaptures: rc.uriCaptures });
    if (!t.ok) return { ok: false, why: 'client', status: 400, message: t.message };
    model = t.value;
  }
  const routeType = configured.route_type;
  const check = checkRequest(client.body, routeType, model.name, rc.responseStreaming);
  if (!check.ok) {
    return { ok: false, why: 'client', status: check.status, message: check.message, ...(check.param ? { param: check.param } : {}), ...(check.code ? { code: check.code } : {}) };
  }
  const modelName = check.model ?? '';

  const provider = getProvider(model.provider);
  let options = optionsOf(model);
  // One rule with the configuration check, which refuses such a target first (plugins/ai-proxy.ts).
  if (!providerServes(provider, routeType, options)) {
    return { ok: false, why: 'translation', status: 400, message: `no transformer for ${model.provider}://${routeType}` };
  }

  // On a Responses API route (the body checked against its schema): a provider that speaks the API gets
  // the request as it is; any other, the chat request it stands for.
  const responsesRequest = routeType === 'llm/v1/responses' ? client.body as ResponsesRequest : undefined;
  const callRoute = providerRouteType(provider, routeType);
  let source: Record<string, unknown> = client.body;
  if (responsesRequest !== undefined && callRoute === 'llm/v1/chat') {
    const chat = responsesToChat(responsesRequest);
    if (!chat.ok) return { ok: false, why: 'client', status: 400, message: chat.message, param: chat.param, code: chat.code };
    source = chat.chat;
  }
  const passThrough = callRoute === 'preserve';
  const embeddings = callRoute === 'llm/v1/embeddings';
  const stream = !embeddings && (check.stream || rc.responseStreaming === 'always');
  const body: Record<string, unknown> = routeType === 'preserve' ? source : { ...source };
  if (routeType !== 'preserve') {
    if (!embeddings) {
      applyOptions(body, options, responsesRequest !== undefined && passThrough);
      body.stream = stream;
    }
    if (modelName !== '') body.model = modelName;
  }
  if (provider.optionsFromQuery) options = provider.optionsFromQuery(options, client.query);
  // preserve: Kong sends the client's own path, unless upstream_path (or here upstream_url) says otherwise.
  if (routeType === 'preserve' && rc.requestPath !== null && options.upstream_path === null && options.upstream_url === null
    && provider.preservePath !== 'model') {
    options = { ...options, upstream_path: rc.requestPath };
  }

  const streamOptions = client.body.stream_options as { include_usage?: unknown } | undefined;
  const ctx: TargetContext = {
    provider: model.provider,
    routeType: callRoute,
    model: modelName,
    stream,
    includeUsage: stream && streamOptions?.include_usage === true,
    options,
    auth: effectiveAuth(configured.auth, client.headers, client.query, client.body),
    env,
    now: () => Math.floor(Date.now() / 1000),
    requestId,
  };
  const built = await buildProviderRequest(() => (responsesRequest !== undefined && passThrough && provider.buildResponsesRequest
    ? provider.buildResponsesRequest(body, ctx)
    : provider.buildRequest(routeRequest(callRoute, body), ctx)), model.provider);
  if (!built.ok) return built;
  // The client's other headers go along; the provider's own (content type, version, credential) win.
  const request: UpstreamRequest = { ...built.request, headers: { ...forwardableHeaders(client.headers), ...built.request.headers } };
  return {
    ok: true,
    call: { provider, ctx, request, target: { ...configured, model }, model: modelName, stream, body, ...(responsesRequest ? { responses: responsesRequest } : {}) },
  };
}
