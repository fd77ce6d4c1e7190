// Errors in the shape OpenAI clients parse: `{"error":{"message", "type", "param", "code"}}`.
export type OpenAIErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error'
  | 'rate_limit_error' | 'server_error' | 'api_error' | 'timeout_error';

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null };
}

export function errorTypeForStatus(status: number): OpenAIErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  // 424: the provider's model failed (Bedrock ModelErrorException): not the client's fault.
  if (status >= 500 || status === 424) return 'server_error';
  return 'invalid_request_error';
}

export function openAIError(status: number, message: string, code: string | null = null, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type: errorTypeForStatus(status), param, code } };
}
