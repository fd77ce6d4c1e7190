// The Service a request goes to: its id (the relay's log line names it) and its timeouts (ai-proxy
// bounds the provider call with them). kong.router.get_service is one PDK round trip, so an instance
// configured on a route or a Service, which only ever sees that one Service, reads it once; a global
// or consumer-scoped instance sees every Service and reads it per request.
import type { KongInstanceMeta } from '../config-schema';
import type { KongPDK } from '../kong/pdk';
import type { ProviderTimeouts } from './context';
import { serviceTimeouts } from './timeouts';

export interface RequestService {
  readonly id: string | null;
  readonly timeouts: ProviderTimeouts;
}

export function describeService(service: Record<string, unknown> | undefined): RequestService {
  return { id: typeof service?.id === 'string' ? service.id : null, timeouts: serviceTimeouts(service) };
}

export class ServiceLookup {
  private fixed: RequestService | undefined;
  private readonly scoped: boolean;

  constructor(meta: KongInstanceMeta) {
    this.scoped = meta.routeId !== null || meta.serviceId !== null;
  }

  async get(kong: KongPDK): Promise<RequestService> {
    if (this.fixed) return this.fixed;
    const s = describeService(await kong.router.getService());
    if (this.scoped) this.fixed = s;
    return s;
  }
}
