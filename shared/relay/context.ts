// What the access phase hands to the relay for one request: the instance's targets (ai-proxy's one,
// or ai-proxy-advanced's list with the balancer shared by every worker's instance of the config) and
// what only the access phase can know. Stored under a one-time token (token-store.ts), in memory, so
// the balancer travels as a reference; nothing here is sent to the client.
import type { TargetBalancer } from '../balancer/target-balancer';
import type { TargetConfig } from '../llm/config-fields';
import type { NativeFormat } from '../native/formats';

export type ResponseStreaming = 'allow' | 'deny' | 'always';

export type { TargetConfig };

export interface ProviderTimeouts {
  /** ms to establish the connection (TLS included). */
  readonly connect: number;
  /** ms to wait for the response headers, and between two reads of the body. */
  readonly read: number;
}

/** Semantic routing's answer: the targets matching the prompt (a fallback group), or why there are none. */
export type SemanticMatch =
  | { readonly ok: true; readonly candidates: readonly number[]; readonly matched: 'description' | 'catchall' }
  | { readonly ok: false; readonly status: number; readonly message: string; readonly detail?: string };

/** Finds the targets for a prompt by embedding it and searching the targets' description vectors. */
export interface SemanticRouting {
  route(body: Readonly<Record<string, unknown>>): Promise<SemanticMatch>;
}

export interface RelayContext {
  /** The plugin that handed the request over (log lines name it). */
  readonly plugin: 'ai-proxy' | 'ai-proxy-advanced';
  /** ai-proxy's one target, or ai-proxy-advanced's targets. */
  readonly targets: readonly TargetConfig[];
  /** ai-proxy-advanced's balancer; without one, the only target is tried once. */
  readonly router?: TargetBalancer;
  /** ai-proxy-advanced's semantic routing: which targets a prompt may go to. */
  readonly semantic?: SemanticRouting;
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
  /** Named captures of the route's path regex, read in access only when a model templates them. */
  readonly uriCaptures: Readonly<Record<string, string>> | null;
  /** The client's request path, read in access only for `preserve` (Kong sends it upstream as is) and native formats. */
  readonly requestPath: string | null;
  /** Provider timeouts for each attempt; undefined: the relay's defaults. */
  readonly timeouts?: ProviderTimeouts;
  /** The client speaks this provider's own API (`llm_format`, shared/relay/native-call.ts); absent: OpenAI's. */
  readonly llmFormat?: NativeFormat;
}
