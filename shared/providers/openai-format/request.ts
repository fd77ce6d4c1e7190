// OpenAI's request format, which every OpenAI-format upstream takes (OpenAI, Azure, Llama in openai
// format, Hugging Face's chat API): the configured model and stream settings applied to the client's body.
import type { RouteType } from '../../openai/types';
import type { TargetContext, TranslatedRoute } from '../core/types';

export const OPENAI_PATHS: Readonly<Record<Exclude<RouteType, 'preserve'>, string>> = {
  'llm/v1/chat': '/v1/chat/completions',
  'llm/v1/completions': '/v1/completions',
  'llm/v1/embeddings': '/v1/embeddings',
};

function isGiven(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/**
 * The config's max_tokens over the client's (kong/llm/drivers/shared.lua merge_config_defaults), in the
 * field the client used: OpenAI's reasoning models refuse `max_tokens`, so a client's
 * `max_completion_tokens` takes the config's value rather than getting a `max_tokens` beside it.
 * The fields to set on the body.
 */
export function configuredMaxTokens(body: Readonly<Record<string, unknown>>, maxTokens: number): Record<string, number> {
  const completion = isGiven(body.max_completion_tokens);
  return {
    ...(completion ? { max_completion_tokens: maxTokens } : {}),
    ...(!completion || isGiven(body.max_tokens) ? { max_tokens: maxTokens } : {}),
  };
}

/**
 * The body an OpenAI-format upstream gets: the configured model and max_tokens, `stream` explicit, and
 * on a stream usage always requested (the pipeline drops the usage chunk again when the client did not
 * ask). `top_k` is not OpenAI's and is removed.
 */
export function openaiBody(req: TranslatedRoute, ctx: TargetContext): Record<string, unknown> {
  const out: Record<string, unknown> = { ...req.body, model: ctx.model };
  delete out.top_k;
  if (req.routeType === 'llm/v1/embeddings') {
    delete out.stream;
    delete out.stream_options;
    return out;
  }
  if (ctx.options.max_tokens !== null) Object.assign(out, configuredMaxTokens(out, ctx.options.max_tokens));
  out.stream = ctx.stream;
  if (ctx.stream) out.stream_options = { ...req.body.stream_options, include_usage: true };
  else delete out.stream_options;
  return out;
}
