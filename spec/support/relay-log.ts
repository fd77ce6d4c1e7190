// Reading what the relay logged (one JSON line per request on the plugin server's stderr) in tests.
import type { TestGateway } from './test-gateway';

/** The relay's JSON lines on the plugin server's stderr. */
export function relayLines(t: TestGateway): Array<Record<string, unknown>> {
  return t.gw.serverOutput().map((l) => l.line).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `get` until it returns a value (log lines come through a pipe, after the response). */
export async function waitFor<T>(get: () => T | undefined, what: string, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The log line of the request Kong gave this id (its X-Kong-Request-Id). */
export function lineFor(t: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  return waitFor(() => relayLines(t).find((l) => l.request_id === requestId), `the log line of ${requestId}`);
}
