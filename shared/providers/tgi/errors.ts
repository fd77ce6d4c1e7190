// Errors of Text Generation Inference and of the Hugging Face Inference API built on it: the body of a
// failed call, and the status an error sent inside a stream stands for.
// Facts: huggingface/text-generation-inference router/src/server.rs (ErrorResponse, error_type → status).
import { fallbackMessage, parseOpenAIStyleError, providerError } from '../core/errors';
import { isObject, num } from '../core/json';
import type { ProviderError, TargetContext } from '../core/types';

/** TGI's error_type into its HTTP status (server.rs `impl From<InferError>`), for errors inside a stream. */
export function tgiErrorStatus(errorType: unknown): number {
  switch (errorType) {
    case 'validation': return 422;
    case 'generation': return 424;
    case 'overloaded': return 429;
    default: return 500;
  }
}

/** HF errors: `{"error": "..."}` (TGI adds error_type), a list of messages, 503 with `estimated_time` while loading. */
export function parseTgiError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  if (!isObject(body)) return providerError(status, fallbackMessage(status, body), ctx);
  const e = body.error;
  if (typeof e === 'string' || Array.isArray(e)) {
    let message = typeof e === 'string' ? e : e.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ');
    const eta = num(body.estimated_time);
    if (eta !== undefined) message = `${message} (estimated time to load: ${Math.ceil(eta)}s)`;
    const code = typeof body.error_type === 'string' ? body.error_type : eta !== undefined ? 'model_loading' : null;
    return providerError(status, message, ctx, code);
  }
  return parseOpenAIStyleError(status, body, ctx);
}

