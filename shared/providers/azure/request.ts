// Azure OpenAI's request: OpenAI's body (openai-format/request.ts) on a deployment URL with an
// `api-version`, and the versions that take `stream_options`.
import type { RouteType } from '../../openai/types';
import { TranslationError, type TargetContext } from '../core/types';
import { normalisePath, resolveUrl } from '../core/upstream';

const DEFAULT_API_VERSION = '2023-05-15';

const OPERATIONS: Readonly<Record<RouteType, string>> = {
  'llm/v1/chat': '/chat/completions',
  'llm/v1/completions': '/completions',
  'llm/v1/embeddings': '/embeddings',
  preserve: '',
};

export function apiVersion(ctx: TargetContext): string {
  return ctx.options.azure_api_version ?? DEFAULT_API_VERSION;
}

/** Dated versions from 2024-09-01 (preview and GA) take stream_options; so do the undated v1 API's. */
export function azureTakesStreamOptions(version: string): boolean {
  const dated = /^(\d{4}-\d{2}-\d{2})/.exec(version);
  return dated ? dated[1]! >= '2024-09-01' : true;
}

export function azureUrl(ctx: TargetContext): string {
  const o = ctx.options;
  const query = { 'api-version': apiVersion(ctx) };
  if (o.upstream_url !== null) return resolveUrl(o, o.upstream_url, OPERATIONS[ctx.routeType], query);
  if (!o.azure_instance || !o.azure_deployment_id) {
    throw new TranslationError('azure requires model.options.azure_instance and azure_deployment_id');
  }
  const base = `https://${o.azure_instance}.openai.azure.com/openai/deployments/${encodeURIComponent(o.azure_deployment_id)}`;
  const operation = o.upstream_path !== null ? normalisePath(o.upstream_path) : OPERATIONS[ctx.routeType];
  return resolveUrl({ upstream_url: null, upstream_path: null }, base, operation, query);
}


/**
 * The Responses API's URL: on Azure's v1 API, `https://{azure_instance}.openai.azure.com/openai/v1/responses`
 * without a deployment in the path or an api-version; upstream_url and upstream_path as for every route.
 */
export function azureResponsesUrl(ctx: TargetContext): string {
  const o = ctx.options;
  if (o.upstream_url !== null) return resolveUrl(o, o.upstream_url, '/openai/v1/responses');
  if (!o.azure_instance) throw new TranslationError('azure requires model.options.azure_instance');
  return resolveUrl(o, `https://${o.azure_instance}.openai.azure.com`, '/openai/v1/responses');
}
