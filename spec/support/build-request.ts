// A provider's buildRequest called as the relay calls it (shared/relay/prepare.ts): the route type from
// the context, the body as the client sent it.
import { routeRequest } from '../../shared/providers/core/route-request';
import type { Provider, TargetContext, UpstreamRequest } from '../../shared/providers/core/types';

export function buildRequest(provider: Provider, body: Record<string, unknown>, ctx: TargetContext): Promise<UpstreamRequest> {
  return provider.buildRequest(routeRequest(ctx.routeType, body), ctx);
}
