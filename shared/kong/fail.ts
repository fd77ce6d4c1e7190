// The one way a plugin ends a request with an error: an OpenAI-style JSON body through kong.response.exit.
// Kong never steps an event again after exit, so callers `return fail(...)`.
import type { KongPDK } from './pdk';
import { openAIError } from '../openai/errors';

export const JSON_HEADERS = { 'Content-Type': 'application/json' } as const;

export function fail(kong: KongPDK, status: number, message: string, code: string | null = null): Promise<void> {
  return kong.response.exit(status, JSON.stringify(openAIError(status, message, code)), { ...JSON_HEADERS });
}
