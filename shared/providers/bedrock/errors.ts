// Bedrock's errors → OpenAI's shape: a failed call's body (AWS's exception names kept as the code), and an
// exception sent inside a ConverseStream; AWS credentials echoed in either are masked.
import { fallbackMessage, providerError } from '../core/errors';
import { isObject, parseJson } from '../core/json';
import { ProviderStreamError, type ProviderError, type TargetContext, type UpstreamEvent } from '../core/types';

/** The exception AWS names for a status, when the body does not name it (x-amzn-ErrorType is a header). */
const EXCEPTION_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'ValidationException', 403: 'AccessDeniedException', 404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException', 424: 'ModelErrorException', 429: 'ThrottlingException',
  500: 'InternalServerException', 503: 'ServiceUnavailableException',
};

function exceptionName(status: number, body: unknown, message: string): string | null {
  const named = isObject(body) ? body.__type ?? body.code ?? body.Code : undefined;
  // `__type` may be "com.amazon.coral.service#ValidationException" or "ValidationException:http://...".
  if (typeof named === 'string' && named !== '') return named.replace(/^.*#/, '').replace(/:.*$/, '');
  if (status === 403 && /security token included in the request is invalid/i.test(message)) return 'UnrecognizedClientException';
  if (status === 403 && /signature we calculated does not match/i.test(message)) return 'InvalidSignatureException';
  if (status === 403 && /security token included in the request is expired/i.test(message)) return 'ExpiredTokenException';
  if (status === 429 && /not ready/i.test(message)) return 'ModelNotReadyException';
  return EXCEPTION_BY_STATUS[status] ?? null;
}

/**
 * AWS signature errors echo the canonical request, which holds the session token and the access key id;
 * they are masked here on top of redactSecrets (credentials from the SDK chain are not in ctx).
 */
function scrubAws(message: string): string {
  return message
    .replace(/(x-amz-security-token\s*[:=]\s*)[^\s'"&\\]+/gi, '$1[REDACTED]')
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, (m) => `${m.slice(0, 4)}...[REDACTED]`);
}

export function parseError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const m = isObject(body) ? body.message ?? body.Message : undefined;
  const message = typeof m === 'string' && m !== '' ? m : fallbackMessage(status, body);
  return providerError(status, scrubAws(message), ctx, exceptionName(status, body, message));
}

/** HTTP status of each ConverseStream exception (API_runtime_ConverseStreamOutput). */
const STREAM_EXCEPTION_STATUS: Readonly<Record<string, number>> = {
  throttlingException: 429, validationException: 400, modelStreamErrorException: 424,
  internalServerException: 500, serviceUnavailableException: 503, modelTimeoutException: 408,
  accessDeniedException: 403, resourceNotFoundException: 404, serviceQuotaExceededException: 400,
};

export function streamError(ev: UpstreamEvent, ctx: TargetContext): ProviderStreamError {
  const name = ev.event ?? 'exception';
  const payload = parseJson(ev.data) ?? ev.data;
  const status = STREAM_EXCEPTION_STATUS[name] ?? 500;
  let message = isObject(payload) && typeof (payload.message ?? payload.Message) === 'string'
    ? (payload.message ?? payload.Message) as string : fallbackMessage(status, payload);
  if (isObject(payload) && typeof payload.originalMessage === 'string') {
    message += ` (model: ${payload.originalMessage}${typeof payload.originalStatusCode === 'number' ? `, status ${payload.originalStatusCode}` : ''})`;
  }
  const code = name.charAt(0).toUpperCase() + name.slice(1);
  return new ProviderStreamError(providerError(status, scrubAws(message), ctx, code));
}

