// AWS Bedrock through the Converse API (`/model/{id}/converse`, `/converse-stream` when streaming) for
// chat and legacy completions, InvokeModel (`/model/{id}/invoke`) for Titan and Cohere embeddings, and
// AWS SigV4 signing (service `bedrock`) computed last, over the final URL, host header and body.
//
// Where we differ from Kong's bedrock driver (docs/kong-ai-plugins.md §2.5-2.7), deliberately:
// - images (data URIs), tool results as `json` or `text` (Kong refuses a tool result that is not JSON),
//   legacy completions and embeddings are translated; consecutive same-role messages are merged, as
//   Converse requires alternating roles;
// - no `anthropic_version` is added to the body (a field of Anthropic's InvokeModel body, not Converse's);
// - stop reasons are mapped to OpenAI's finish_reason values (Kong passes `end_turn` through lower-cased);
// - a system prompt for a model that takes none is left to Bedrock's own ValidationException rather than
//   to a list of model names that ages;
// - a stream under upstream_url / upstream_path still goes to converse-stream, and an upstream_url
//   without a path (a VPC endpoint, a proxy) gets the operation path instead of POST /;
// - no region → a CredentialError naming the settings to use, logged; the client gets Kong's 500 "LLM
//   request failed before proxying" (Kong crashed here before 3.8.1).
//
// url.ts builds the URL, request.ts the Converse body, embeddings.ts the InvokeModel bodies, sigv4.ts
// signs, credentials.ts finds region and keys; response.ts, stream.ts and errors.ts read the answers.
import { applyConfiguredAuth } from '../core/auth';
import { bedrockUsage } from '../core/native-usage';
import type { Provider, RouteRequest, TargetContext, UpstreamRequest } from '../core/types';
import { awsCredentials, awsRegion } from './credentials';
import { parseError } from './errors';
import { requestBody } from './request';
import { parseResponse } from './response';
import { signRequest } from './sigv4';
import { bedrockStreamTranslator } from './stream';
import { upstreamUrl } from './url';

/**
 * A configured `Authorization` header (auth.header_name) is a Bedrock API key (`Bearer ...`): the request
 * is then sent with it and not signed. Otherwise the request is SigV4-signed with the AWS credentials.
 */
function usesApiKey(ctx: TargetContext): boolean {
  const a = ctx.auth;
  return !!a && a.header_name?.toLowerCase() === 'authorization' && !!a.header_value && !a.aws_access_key_id;
}

async function buildRequest(req: RouteRequest, ctx: TargetContext): Promise<UpstreamRequest> {
  let region: string | undefined;
  const getRegion = () => (region ??= awsRegion(ctx));
  const url = upstreamUrl(ctx, getRegion);
  const out = applyConfiguredAuth({
    method: 'POST', url, headers: { 'content-type': 'application/json' }, body: requestBody(req, ctx),
  }, ctx);
  if (usesApiKey(ctx)) return out;
  const credentials = await awsCredentials(ctx);
  // The signing date is the request's clock (ctx.now), so tests can fix it.
  return signRequest(out, { region: getRegion(), service: 'bedrock', credentials, date: new Date(ctx.now() * 1000) });
}


export const bedrockProvider: Provider = {
  name: 'bedrock',
  routeTypes: ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings', 'preserve'],
  framing: () => 'aws-eventstream',
  buildRequest,
  parseResponse,
  streamTranslator: bedrockStreamTranslator,
  parseError,
  preservePath: 'model',
  nativeUsage: bedrockUsage,
};

