// How long the relay waits for a provider. Kong's ai-proxy has no timeout settings of its own: the
// route's Service timeouts govern the call to the provider. Here Kong's call goes to the relay, under
// those same Service timeouts, so the relay uses them for the provider too, a little shorter on the
// read side: the relay gives up first and the client gets an OpenAI-style 504 instead of Kong's own.
import type { ProviderTimeouts } from './context';

/** Kong's Service defaults: 60 s to connect, 60 s to read. */
export const KONG_SERVICE_TIMEOUTS = { connect: 60_000, read: 60_000 } as const;

/** Time kept back from Kong's read timeout: 1 s, or a tenth of a short one. */
export function readMargin(readMs: number): number {
  return Math.min(1000, Math.floor(readMs / 10));
}

/** The relay's provider timeouts under Kong timeouts of `connect` and `read` ms. */
export function relayTimeouts(kong: { connect: number; read: number }): ProviderTimeouts {
  const read = Math.max(1, kong.read - readMargin(kong.read));
  return { connect: Math.min(kong.connect, read), read };
}

/** The Service entity's timeouts (kong.router.get_service), Kong's defaults for what is missing. */
export function serviceTimeouts(service: unknown): ProviderTimeouts {
  const s = (typeof service === 'object' && service !== null ? service : {}) as Record<string, unknown>;
  const ms = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : d);
  return relayTimeouts({ connect: ms(s.connect_timeout, KONG_SERVICE_TIMEOUTS.connect), read: ms(s.read_timeout, KONG_SERVICE_TIMEOUTS.read) });
}
