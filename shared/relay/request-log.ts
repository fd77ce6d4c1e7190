// What the operator learns of each relayed request once it is over, streams included: one JSON line on
// stderr (Kong logs the plugin server's output lines) with Kong's `ai.proxy` fields, and Kong's AI
// metrics (metrics.ts). As in Kong, the `ai` fields and the metrics need logging.log_statistics, and
// payloads also need log_payloads. Credentials never appear: payloads and messages are scrubbed.
import type { TargetContext } from '../providers/core/types';
import { redactSecrets } from '../providers/core/auth';
import type { RelayContext, TargetConfig } from './context';
import type { AiMetrics } from './metrics';
import { stderrSink, type LineSink } from '../logging/async-line-sink';
import { cost, timePerToken, type UsageFigures } from './usage';
import { getProvider } from '../providers/core/registry';

/** One attempt on one target (ai-proxy-advanced may make several), as the log line shows it. */
export interface AttemptRecord {
  /** The target's index in the plugin's `targets`. */
  readonly target: number;
  readonly provider: string;
  readonly model: string | null;
  /** Where the call went (Kong's tried_targets fields), when a call was made: never the query (it may hold a key). */
  readonly host?: string;
  readonly port?: number;
  readonly upstream_scheme?: string;
  readonly upstream_uri?: string;
  /** The status its answer had or would have had; 0 for an attempt abandoned before its answer. */
  readonly status: number;
  /** ms the attempt took. */
  readonly latency: number;
  readonly error?: string;
}

export interface RequestOutcome {
  rc: RelayContext;
  requestId: string;
  /** The target that served (after templating), or the first one until a call was prepared. */
  target: TargetConfig;
  /** ai-proxy-advanced: the index of the target that served (or was last tried). */
  targetIndex: number | null;
  /** Every attempt, in order. */
  attempts: AttemptRecord[];
  /** The model asked for (configured, templated, or the body's), "" if none. */
  requestModel: string;
  responseModel: string | null;
  /** The provider was called (statistics are about provider calls). */
  called: boolean;
  status: number;
  stream: boolean;
  /** ms from access start to the provider's response headers (Kong's llm_latency); -1 if none. */
  llmLatency: number;
  /** ms from access start to the first chunk written to the client (streams). */
  firstChunk: number | null;
  usage: UsageFigures | null;
  /** Sent upstream / sent back (OpenAI shape), for log_payloads. */
  payload?: { request?: string; response?: string };
  /** Why the request failed, as told to the client (or the stream's error event). */
  error?: string;
  /** For the operator only: where the failure happened (the provider's host, an error code). */
  errorDetail?: string;
  /** The call's context (credentials to scrub, effective options); before one exists, the config's. */
  ctx: TargetContext;
}

/** Kong's `ai.proxy` table for this request (kong/llm/plugin/shared-filters/serialize-analytics.lua). */
export function aiProxyFields(o: RequestOutcome): Record<string, unknown> {
  const t = o.target;
  const o2 = t.model.options;
  const llmLatency = Math.max(0, o.llmLatency);
  const usage = o.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, estimated: { prompt: false, completion: false } };
  const meta: Record<string, unknown> = {
    plugin_id: o.rc.pluginId,
    provider_name: t.model.provider,
    request_model: o.requestModel || 'UNSPECIFIED',
    response_model: o.responseModel ?? (o.requestModel || 'UNSPECIFIED'),
    llm_latency: llmLatency,
    // Kong Enterprise's names (3.12) for what the OSS log lacks.
    request_mode: o.stream ? 'stream' : 'oneshot',
  };
  if (o.called) Object.assign(meta, getProvider(t.model.provider).logMeta?.(o.ctx));
  const fields: Record<string, unknown> = {
    meta,
    usage: {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.total_tokens,
      time_per_token: timePerToken(llmLatency, usage.completion_tokens),
      cost: cost(usage, o2?.input_cost ?? null, o2?.output_cost ?? null),
      ...(o.firstChunk !== null ? { time_to_first_token: o.firstChunk } : {}),
    },
  };
  // Kong Enterprise's record of every target tried (3.11), with what became of each attempt.
  if (o.rc.router) fields.tried_targets = o.attempts.map((a) => ({ ...a }));
  if (t.logging.log_payloads && o.payload) {
    const scrub = (s: string | undefined) => (s === undefined ? s : redactSecrets(s, o.ctx));
    fields.payload = { request: scrub(o.payload.request), response: scrub(o.payload.response) };
  }
  return fields;
}

export class RequestLog {
  constructor(private readonly metrics: AiMetrics, private readonly sink: LineSink = stderrSink) {}

  record(o: RequestOutcome): void {
    const stats = o.target.logging.log_statistics;
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      request_id: o.requestId,
      route_id: o.rc.routeId,
      service_id: o.rc.serviceId,
      plugin: o.rc.plugin,
      plugin_id: o.rc.pluginId,
      ...(o.targetIndex !== null ? { target: o.targetIndex } : {}),
      ...(o.attempts.length > 1 ? { attempts: o.attempts.length } : {}),
      provider: o.target.model.provider,
      status: o.status,
      stream: o.stream,
      latencies: { llm: o.llmLatency, first_chunk: o.firstChunk, total: Date.now() - o.rc.startedAt },
    };
    if (o.usage) line.usage_estimated = o.usage.estimated.prompt || o.usage.estimated.completion;
    if (o.error !== undefined) line.error = redactSecrets(o.error, o.ctx);
    if (o.errorDetail !== undefined) line.error_detail = redactSecrets(o.errorDetail, o.ctx);
    if (stats && o.called) line.ai = { proxy: aiProxyFields(o) };
    try {
      this.sink.write(`${JSON.stringify(line)}\n`);
    } catch {
      // A closed stderr must not fail a request.
    }
    if (stats && o.called && o.usage) {
      const u = o.usage;
      const options = o.target.model.options;
      this.metrics.observe({
        provider: o.target.model.provider,
        requestModel: o.requestModel || 'UNSPECIFIED',
        workspace: o.rc.workspace,
        llmLatency: Math.max(0, o.llmLatency),
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        totalTokens: u.total_tokens,
        cost: cost(u, options?.input_cost ?? null, options?.output_cost ?? null),
        estimated: u.estimated,
      });
    }
  }
}
