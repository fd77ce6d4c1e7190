// A request on a native route (`llm_format` gemini, bedrock, anthropic: docs/kong-ai-plugins.md §2.8)
// prepared for its provider: the operation and model read off the client's path (Anthropic: the body),
// the configured model enforced with Kong's message, and the client's body sent unchanged to the
// provider's native URL for that model (the `preserve` translation: Bedrock's and Gemini's model path,
// Anthropic's /v1/messages) with the gateway's own credential (SigV4 signed anew, a Gemini key or GCP
// token, Anthropic's x-api-key). The answer then passes through as `preserve` answers do.
import type { NativeFormat } from '../native/formats';
import { nativeTurns, openaiView } from '../native/openai-view';
import { nativeOperation, sameModel } from '../native/paths';
import { getProvider } from '../providers/core/registry';
import { NO_OPTIONS, type ModelOptions, type TargetContext, type UpstreamRequest } from '../providers/core/types';
import { effectiveAuth, forwardableHeaders, type IncomingHeaders } from './client-headers';
import type { RelayContext, TargetConfig } from './context';
import type { ClientRequest, Prepared } from './prepare';
import { buildProviderRequest } from './provider-request';
import { hasTemplates, resolveModel } from './templating';

const ANTHROPIC_MESSAGES = '/v1/messages';

/** The client's AWS signature headers (x-amz-date, x-amz-security-token, ...) never reach Bedrock: the gateway signs anew. */
function nativeForwardable(headers: IncomingHeaders): Record<string, string> {
  const out = forwardableHeaders(headers);
  for (const name of Object.keys(out)) if (name.startsWith('x-amz-') || name.startsWith('amz-sdk-')) delete out[name];
  return out;
}

/** Anthropic's preserve call goes to the client's path; a native one to the Messages API, unless the operator set a path. */
function nativeOptions(format: NativeFormat, o: ModelOptions): ModelOptions {
  if (format !== 'anthropic' || o.upstream_path !== null) return o;
  let bare = o.upstream_url === null;
  if (!bare) {
    try { bare = /^\/*$/.test(new URL(o.upstream_url!).pathname); } catch { bare = false; }
  }
  return bare ? { ...o, upstream_path: ANTHROPIC_MESSAGES } : o;
}

const bad = (message: string): Prepared => ({ ok: false, why: 'client', status: 400, message });

export async function prepareNativeCall(format: NativeFormat, configured: TargetConfig, rc: RelayContext, client: ClientRequest,
  requestId: string, env: Readonly<Record<string, string | undefined>>): Promise<Prepared> {
  let model = configured.model;
  if (hasTemplates(model)) {
    const t = resolveModel(model, { headers: client.headers, query: client.query, uriCaptures: rc.uriCaptures });
    if (!t.ok) return bad(t.message);
    model = t.value;
  }
  const op = nativeOperation(format, rc.requestPath ?? '', client.body);
  if (!op.ok) return bad(op.message);
  const turns = nativeTurns(format, client.body);
  if (turns === undefined || turns.length === 0) return bad("request body doesn't contain valid prompts");
  if (op.model !== null && model.name !== null && !sameModel(format, op.model, model.name)) {
    return bad(`cannot use own model - must be: ${model.name}`);
  }
  const modelName = model.name ?? op.model;
  if (modelName === null) return bad('model parameter not found in request, nor in gateway configuration');
  // The stream mode is the client's operation; `always` cannot turn a native call into a stream without changing it.
  if (op.stream && rc.responseStreaming === 'deny') return bad('response streaming is not enabled for this LLM');

  const provider = getProvider(model.provider);
  const options = nativeOptions(format, model.options ? { ...NO_OPTIONS, ...model.options } : NO_OPTIONS);
  const ctx: TargetContext = {
    provider: model.provider,
    routeType: 'preserve',
    model: modelName,
    stream: op.stream,
    includeUsage: false,
    options,
    auth: effectiveAuth(configured.auth, client.headers, client.query, client.body),
    env,
    now: () => Math.floor(Date.now() / 1000),
    requestId,
  };
  const built = await buildProviderRequest(() => provider.buildRequest({ routeType: 'preserve', body: client.body }, ctx), model.provider);
  if (!built.ok) return built;
  const request: UpstreamRequest = { ...built.request, headers: { ...nativeForwardable(client.headers), ...built.request.headers } };
  return {
    ok: true,
    call: { provider, ctx, request, target: { ...configured, model }, model: modelName, stream: op.stream, body: openaiView(turns, modelName, op.stream) },
  };
}
