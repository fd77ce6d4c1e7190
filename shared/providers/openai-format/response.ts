// OpenAI's response format, read from an OpenAI-format upstream: checked for the part the route type
// needs, passed on otherwise as the provider sent it.
import type { OpenAIResponseBody } from '../../openai/types';
import { isObject, type Json } from '../core/json';
import { UpstreamFormatError, type TargetContext } from '../core/types';

/**
 * An OpenAI-shaped response, checked for the part the route type needs (`data`, else `choices`), the
 * model kept as reported; for callers that rework it before it is OpenAI's.
 */
export function readOpenAIBody(body: unknown, ctx: TargetContext): Json {
  if (!isObject(body)) throw new UpstreamFormatError(`failed to decode ${ctx.routeType} response`);
  if (ctx.routeType === 'llm/v1/embeddings') {
    if (!Array.isArray(body.data)) throw new UpstreamFormatError("'data' not in llm/v1/embeddings response");
  } else if (!Array.isArray(body.choices)) {
    throw new UpstreamFormatError(`'choices' not in ${ctx.routeType} response`);
  }
  return { ...body, model: typeof body.model === 'string' ? body.model : ctx.model };
}

export function parseOpenAIResponse(body: unknown, ctx: TargetContext): OpenAIResponseBody {
  // Only `data` / `choices` are checked: the other fields pass through as the provider sent them.
  return readOpenAIBody(body, ctx) as unknown as OpenAIResponseBody;
}
