// Azure OpenAI's errors: OpenAI's shape, with the content filter's verdict (`innererror`) kept.
import { parseOpenAIStyleError } from '../core/errors';
import { isObject, type Json } from '../core/json';
import type { ProviderError, TargetContext } from '../core/types';

/** Azure's errors are OpenAI's shape (string codes such as "429", "DeploymentNotFound", "content_filter"). */
export function parseAzureError(status: number, body: unknown, ctx: TargetContext): ProviderError {
  const e = parseOpenAIStyleError(status, body, ctx);
  const inner = isObject(body) && isObject(body.error) ? body.error.innererror : undefined;
  // The content filter's verdict per category (hate, violence, jailbreak, ...): no secret, useful to clients.
  // OpenAI's error type has no `innererror`: it is added as one more field of the JSON object.
  if (isObject(inner)) (e.body.error as unknown as Json).innererror = inner;
  return e;
}

