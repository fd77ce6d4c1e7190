// The one place an untyped request body becomes a typed RouteRequest: the caller has already checked it
// against its route type (shared/openai/validate-request.ts), and every translator then narrows on
// `routeType` instead of casting the body.
import type { ChatRequest, CompletionRequest, EmbeddingsRequest, RouteType } from '../../openai/types';
import type { RouteRequest } from './types';

export function routeRequest(routeType: RouteType, body: Record<string, unknown>): RouteRequest {
  // The casts state what the caller's check established; TypeScript cannot see a runtime validation.
  switch (routeType) {
    case 'llm/v1/chat': return { routeType, body: body as ChatRequest };
    case 'llm/v1/completions': return { routeType, body: body as CompletionRequest };
    case 'llm/v1/embeddings': return { routeType, body: body as EmbeddingsRequest };
    case 'preserve': return { routeType, body };
  }
}
