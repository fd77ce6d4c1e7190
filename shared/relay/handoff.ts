// The access phase's part of the relay: store what the relay needs under a one-time token and point
// Kong's upstream at the relay. Kong then proxies the client's request (method, headers, query and body,
// which access never reads) to http://127.0.0.1:<relay port>/ai-relay/<token>, and streams the answer
// back. One PDK round trip for the path with the token, one more each for the target (unless the Service
// points at the relay's fixed address), the scheme (unless the Service is http), Kong's log serializer
// (with statistics), and uri captures or the request path (only when a model templates them, or for
// preserve and the native formats). What does not change from one request to the next is worked out once per instance.
import type { KongInstanceMeta } from '../config-schema';
import type { KongPDK } from '../kong/pdk';
import type { NativeFormat } from '../native/formats';
import type { TargetBalancer } from '../balancer/target-balancer';
import type { ProviderTimeouts, RelayContext, ResponseStreaming, SemanticRouting, TargetConfig } from './context';
import { RELAY_HOST, RELAY_PREFIX, sharedRelay } from './server';
import { usesTemplateSource } from './templating';
import type { RequestService } from './service-lookup';

export interface HandoffConfig {
  plugin: RelayContext['plugin'];
  targets: readonly TargetConfig[];
  router?: TargetBalancer;
  semantic?: SemanticRouting;
  responseStreaming: ResponseStreaming;
  modelNameHeader: boolean;
  maxRequestBodySize: number;
  meta: KongInstanceMeta;
  /** The client speaks this provider's own API (`llm_format`); absent: OpenAI's. */
  llmFormat?: NativeFormat;
}

/** What only this request knows. */
export interface HandoffRequest {
  /** The Service the request goes to (a route-scoped config has no service_id of its own). */
  service: RequestService;
  /** Date.now() when access began. */
  startedAt: number;
  /** Provider timeouts for each attempt. */
  timeouts: ProviderTimeouts;
}

/** Kong's `named` captures table; an empty Lua table arrives as an array. */
function namedCaptures(v: { named?: unknown } | undefined): Record<string, string> {
  const named = v?.named;
  const out: Record<string, string> = {};
  if (typeof named !== 'object' || named === null || Array.isArray(named)) return out;
  for (const [k, x] of Object.entries(named)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The one value every target has for `pick`, or null when they differ. */
function common<T>(targets: readonly TargetConfig[], pick: (t: TargetConfig) => T): T | null {
  const first = pick(targets[0]!);
  return targets.every((t) => pick(t) === first) ? first : null;
}

export class Handoff {
  private readonly needsUriCaptures: boolean;
  private readonly needsPath: boolean;
  /** Kong's `ai.proxy.meta` as far as access knows it; null without log_statistics. */
  private readonly serializerMeta: Readonly<Record<string, unknown>> | null;

  constructor(private readonly c: HandoffConfig) {
    this.needsUriCaptures = c.targets.some((t) => usesTemplateSource(t.model, 'uri_captures'));
    this.needsPath = c.llmFormat !== undefined || c.targets.some((t) => t.route_type === 'preserve');
    const provider = common(c.targets, (t) => t.model.provider);
    const model = common(c.targets, (t) => (t.model.name !== null && !t.model.name.includes('$(') ? t.model.name : null));
    this.serializerMeta = c.targets.some((t) => t.logging.log_statistics)
      ? { plugin_id: c.meta.pluginId ?? '', ...(provider !== null ? { provider_name: provider } : {}), ...(model !== null ? { request_model: model } : {}) }
      : null;
  }

  async handOff(kong: KongPDK, r: HandoffRequest): Promise<void> {
    const c = this.c;
    const relay = sharedRelay(c.plugin);
    const port = await relay.port();
    const uriCaptures = this.needsUriCaptures ? namedCaptures(await kong.request.getUriCaptures()) : null;
    const requestPath = this.needsPath ? await kong.request.getPath() : null;
    const token = relay.tokens.issue({
      plugin: c.plugin,
      targets: c.targets,
      ...(c.router ? { router: c.router } : {}),
      ...(c.semantic ? { semantic: c.semantic } : {}),
      responseStreaming: c.responseStreaming,
      modelNameHeader: c.modelNameHeader,
      maxRequestBodySize: c.maxRequestBodySize,
      pluginId: c.meta.pluginId ?? '',
      routeId: c.meta.routeId,
      serviceId: r.service.id,
      workspace: 'default',
      startedAt: r.startedAt,
      uriCaptures,
      requestPath,
      timeouts: r.timeouts,
      ...(c.llmFormat ? { llmFormat: c.llmFormat } : {}),
    });
    // A Service that already points at this relay's fixed address needs no new target; one whose
    // protocol is already http needs no new scheme (each is a round trip).
    if (!relay.listensAt(r.service.host, r.service.port)) await kong.service.setTarget(RELAY_HOST, port);
    if (r.service.protocol !== 'http') await kong.service.request.setScheme('http');
    await kong.service.request.setPath(`${RELAY_PREFIX}${token}`);
    // What is known before the body is read; usage follows on the relay's log line and metrics.
    if (this.serializerMeta) await kong.log.setSerializeValue('ai.proxy', { meta: this.serializerMeta });
  }
}
