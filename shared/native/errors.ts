// The gateway's own errors on a native route (a wrong model, a body that is not JSON, a provider that
// cannot be reached) in the provider's error shape, so that the provider's SDK reads them as it reads
// the provider's own (docs/provider-formats.md). The provider's errors pass through unchanged.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { sendJson } from '../relay/respond';
import type { NativeFormat } from './formats';

export interface NativeErrorAnswer {
  readonly body: Record<string, unknown>;
  readonly headers: OutgoingHttpHeaders;
}

/** Google's canonical status names (google.rpc.Code) for the HTTP statuses the gateway answers. */
function googleStatus(status: number): string {
  switch (status) {
    case 400: case 413: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 429: return 'RESOURCE_EXHAUSTED';
    case 502: case 503: return 'UNAVAILABLE';
    case 504: return 'DEADLINE_EXCEEDED';
    default: return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

/** Anthropic's error types (its API's errors page). */
function anthropicType(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 529: return 'overloaded_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Bedrock Runtime's exception names, which the AWS SDK reads from `x-amzn-errortype`. */
function bedrockType(status: number): string {
  switch (status) {
    case 400: case 413: return 'ValidationException';
    case 403: return 'AccessDeniedException';
    case 404: return 'ResourceNotFoundException';
    case 429: return 'ThrottlingException';
    case 502: case 503: return 'ServiceUnavailableException';
    case 504: return 'ModelTimeoutException';
    default: return status >= 500 ? 'InternalServerException' : 'ValidationException';
  }
}

export function nativeError(format: NativeFormat, status: number, message: string): NativeErrorAnswer {
  switch (format) {
    case 'gemini':
      return { body: { error: { code: status, message, status: googleStatus(status) } }, headers: {} };
    case 'anthropic':
      return { body: { type: 'error', error: { type: anthropicType(status), message } }, headers: {} };
    case 'bedrock':
      return { body: { message }, headers: { 'x-amzn-errortype': bedrockType(status) } };
  }
}

export async function sendNativeError(req: IncomingMessage, res: ServerResponse, format: NativeFormat, status: number,
  message: string, headers: OutgoingHttpHeaders = {}): Promise<void> {
  const e = nativeError(format, status, message);
  await sendJson(req, res, status, e.body, { ...headers, ...e.headers });
}
