// What the access phase hands to the relay for one request: the instance's parsed config (or the
// ai-proxy-advanced target it chose) and what only the access phase can know. Stored under a one-time
// token (token-store.ts); nothing here is sent to the client.
import type { RouteType } from '../openai/types';
import type { ModelOptions, ProviderAuth, ProviderName } from '../providers/types';

export type ResponseStreaming = 'allow' | 'deny' | 'always';

/** One model target, as the plugins' config declares it (shared/llm/config-fields.ts). */
export interface TargetConfig {
  readonly route_type: RouteType;
  readonly auth: (ProviderAuth & {
    readonly azure_use_managed_identity: boolean;
    readonly azure_client_id: string | null;
    readonly azure_client_secret: string | null;
    readonly azure_tenant_id: string | null;
  }) | null;
  readonly model: {
    readonly provider: ProviderName;
    readonly name: string | null;
    readonly options: (ModelOptions & { readonly input_cost: number | null; readonly output_cost: number | null }) | null;
  };
  readonly logging: { readonly log_statistics: boolean; readonly log_payloads: boolean };
}

export interface ProviderTimeouts {
  /** ms to establish the connection (TLS included). */
  readonly connect: number;
  /** ms to wait for the response headers, and between two reads of the body. */
  readonly read: number;
}

export interface RelayContext {
  /** The plugin that handed the request over (log lines name it). */
  readonly plugin: 'ai-proxy' | 'ai-proxy-advanced';
  readonly target: TargetConfig;
  readonly responseStreaming: ResponseStreaming;
  readonly modelNameHeader: boolean;
  readonly maxRequestBodySize: number;
  readonly pluginId: string;
  readonly routeId: string | null;
  readonly serviceId: string | null;
  /** Kong's workspace label: OSS Kong has one workspace, "default". */
  readonly workspace: string;
  /** Date.now() at the start of the access phase (Kong measures llm_latency from there). */
  readonly startedAt: number;
  /** Named captures of the route's path regex, read in access only when the model templates them. */
  readonly uriCaptures: Readonly<Record<string, string>> | null;
  /** The client's request path, read in access only for `preserve` (Kong sends it upstream as is). */
  readonly requestPath: string | null;
  /** Provider timeouts; undefined: the relay's defaults. */
  readonly timeouts?: ProviderTimeouts;
  /** ai-proxy-advanced: which target of the list (log lines name it). */
  readonly targetIndex?: number;
}
