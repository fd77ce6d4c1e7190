// The access phase's part of the relay: store what the relay needs under a one-time token and point
// Kong's upstream at the relay. Kong then proxies the client's request (method, headers, query and body,
// which access never reads) to http://127.0.0.1:<relay port>/ai-relay/<token>, and streams the answer
// back. Three PDK round trips, a fourth for Kong's log serializer when statistics are on, and one more
// only when the model templates uri captures or the route type is preserve.
import type { KongInstanceMeta } from '../config-schema';
import type { KongPDK } from '../kong/pdk';
import type { ProviderTimeouts, RelayContext, ResponseStreaming, TargetConfig } from './context';
import { RELAY_HOST, RELAY_PREFIX, sharedRelay } from './server';
import { usesTemplateSource } from './templating';

export interface Handoff {
  plugin: RelayContext['plugin'];
  target: TargetConfig;
  responseStreaming: ResponseStreaming;
  modelNameHeader: boolean;
  maxRequestBodySize: number;
  meta: KongInstanceMeta;
  /** The Service the request goes to (a route-scoped config has no service_id of its own). */
  serviceId: string | null;
  /** Date.now() when access began. */
  startedAt: number;
  timeouts: ProviderTimeouts;
  targetIndex?: number;
}

/** Kong's `named` captures table; an empty Lua table arrives as an array. */
function namedCaptures(v: { named?: unknown } | undefined): Record<string, string> {
  const named = v?.named;
  const out: Record<string, string> = {};
  if (typeof named !== 'object' || named === null || Array.isArray(named)) return out;
  for (const [k, x] of Object.entries(named)) if (typeof x === 'string') out[k] = x;
  return out;
}

export async function handOff(kong: KongPDK, h: Handoff): Promise<void> {
  const relay = sharedRelay(h.plugin);
  const port = await relay.port();
  const t = h.target;
  const uriCaptures = usesTemplateSource(t.model, 'uri_captures') ? namedCaptures(await kong.request.getUriCaptures()) : null;
  const requestPath = t.route_type === 'preserve' ? await kong.request.getPath() : null;
  const token = relay.tokens.issue({
    plugin: h.plugin,
    target: t,
    responseStreaming: h.responseStreaming,
    modelNameHeader: h.modelNameHeader,
    maxRequestBodySize: h.maxRequestBodySize,
    pluginId: h.meta.pluginId ?? '',
    routeId: h.meta.routeId,
    serviceId: h.serviceId,
    workspace: 'default',
    startedAt: h.startedAt,
    uriCaptures,
    requestPath,
    timeouts: h.timeouts,
    ...(h.targetIndex !== undefined ? { targetIndex: h.targetIndex } : {}),
  });
  await kong.service.setTarget(RELAY_HOST, port);
  await kong.service.request.setScheme('http');
  await kong.service.request.setPath(`${RELAY_PREFIX}${token}`);
  if (t.logging.log_statistics) {
    // What is known before the body is read; usage follows on the relay's log line and metrics.
    const configuredModel = t.model.name !== null && !t.model.name.includes('$(') ? t.model.name : null;
    await kong.log.setSerializeValue('ai.proxy', {
      meta: {
        plugin_id: h.meta.pluginId ?? '',
        provider_name: t.model.provider,
        ...(configuredModel !== null ? { request_model: configuredModel } : {}),
      },
    });
  }
}
