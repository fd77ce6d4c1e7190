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
  /** The relay's provider timeouts under the Service's (a little shorter on the read side). */
  readonly timeouts: ProviderTimeouts;
  /** What Kong itself uses for the call to the relay, unless a plugin changes it. */
  readonly protocol: string | null;
  readonly host: string | null;
  readonly port: number | null;
  readonly kongTimeouts: { readonly connect: number; readonly write: number; readonly read: number };
}

function ms(v: unknown, otherwise: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : otherwise;
}

export function describeService(service: Record<string, unknown> | undefined): RequestService {
  const s = service ?? {};
  return {
    id: typeof s.id === 'string' ? s.id : null,
    timeouts: serviceTimeouts(service),
    protocol: typeof s.protocol === 'string' ? s.protocol : null,
    host: typeof s.host === 'string' ? s.host : null,
    port: typeof s.port === 'number' ? s.port : null,
    // Kong's Service defaults.
    kongTimeouts: { connect: ms(s.connect_timeout, 60_000), write: ms(s.write_timeout, 60_000), read: ms(s.read_timeout, 60_000) },
  };
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
