// Building OpenAI-shaped errors from what providers send: the provider's status kept, its message kept
// (credentials scrubbed), a type derived from the status.
import { openAIError } from '../../openai/errors';
import { redactSecrets } from './auth';
import type { ProviderError, TargetContext } from './types';

export function providerError(status: number, message: string, ctx: TargetContext, code: string | null = null,
  param: string | null = null): ProviderError {
  return { status, body: openAIError(status, redactSecrets(message, ctx), code, param) };
}

/** The text of a body that is not the provider's JSON error (an HTML page from a proxy, plain text). */
export function fallbackMessage(status: number, body: unknown): string {
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 500);
  if (body !== null && typeof body === 'object') return JSON.stringify(body).slice(0, 500);
  return `upstream responded with HTTP ${status}`;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

/**
 * OpenAI's own error shape, also used by Azure, Mistral, HF's OpenAI-compatible routes, Ollama's
 * `{"error": "..."}` and many proxies: `{"error": {"message", "type", "code", "param"}}`.
 */
export function parseOpenAIStyleError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const e = (body as { error?: unknown } | null)?.error;
  if (typeof e === 'string') return providerError(status, e, ctx);
  if (e !== null && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const message = str(o.message) ?? fallbackMessage(status, body);
    return providerError(status, message, ctx, str(o.code), str(o.param));
  }
  const message = str((body as { message?: unknown } | null)?.message) ?? fallbackMessage(status, body);
  return providerError(status, message, ctx);
}
