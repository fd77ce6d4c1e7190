// Bedrock's URL for one call: the Converse or InvokeModel operation of the model, under the region's
// endpoint or the operator's upstream_url / upstream_path.
import type { TargetContext } from '../core/types';
import { encodePathSegment, resolveUrl } from '../core/upstream';

/** The operation path, the model id as one segment (as the AWS SDK encodes it: `:` → %3A, `/` → %2F). */
function operation(ctx: TargetContext): string {
  const id = encodePathSegment(ctx.model);
  if (ctx.routeType === 'llm/v1/embeddings') return `/model/${id}/invoke`;
  return `/model/${id}/${ctx.stream ? 'converse-stream' : 'converse'}`;
}

/**
 * The default is `https://bedrock-runtime.{region}.amazonaws.com/model/{id}/{op}`. Overrides follow
 * resolveUrl (upstream.ts); then a Converse path is switched to the operation the call needs (a
 * configured `.../converse` still streams from `.../converse-stream`, and the reverse).
 */
export function upstreamUrl(ctx: TargetContext, region: () => string): string {
  const o = ctx.options;
  const op = operation(ctx);
  const base = o.upstream_url ?? `https://bedrock-runtime.${region()}.amazonaws.com`;
  const bare = o.upstream_url !== null && o.upstream_path === null && /^\/*$/.test(new URL(o.upstream_url).pathname);
  const url = new URL(resolveUrl(bare ? { upstream_url: o.upstream_url, upstream_path: op } : o, base, op));
  if (ctx.routeType !== 'llm/v1/embeddings') {
    url.pathname = url.pathname.replace(/\/converse(-stream)?(\/?)$/, `/${ctx.stream ? 'converse-stream' : 'converse'}$2`);
  }
  return url.toString();
}
