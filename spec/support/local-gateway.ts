// The local gateway as `npm start` runs it (dist/tools/local-gateway/gateway-main.js), started in a child
// process on a deck file for the tests that drive it with real clients: its address, everything it
// printed, and the relay's log lines (the plugin servers' JSON lines, which the gateway wraps in its own).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(__dirname, '../../tools/local-gateway/gateway-main.js');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface LocalGateway {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** What the gateway printed on stdout and stderr, in order. */
  readonly output: string[];
  /** The relay's log lines, parsed. */
  relayLines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Starts the gateway on `deck`; `fakeLlmListen` is where its built-in fake provider listens (`off`:
 * none). Resolves once it listens.
 */
export async function startLocalGateway(deck: string, fakeLlmListen: string): Promise<LocalGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'local-gateway-'));
  const port = await freePort();
  writeFileSync(join(dir, 'kong.yaml'), deck);
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      KONG_DECLARATIVE_CONFIG: join(dir, 'kong.yaml'),
      KONG_PROXY_LISTEN: `127.0.0.1:${port}`,
      FAKE_LLM_LISTEN: fakeLlmListen,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((res) => { child.once('exit', () => res()); child.kill('SIGTERM'); });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`the gateway did not start:\n${output.join('')}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => {
        output.push(d.toString());
        if (output.join('').includes('listening on http://')) { clearTimeout(timer); res(); }
      });
      child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`the gateway exited (${code}):\n${output.join('')}`)); });
    });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output,
    relayLines: () => output.join('').split('\n').flatMap((l) => {
      try {
        const outer = JSON.parse(l) as { msg?: unknown };
        return typeof outer.msg === 'string' && outer.msg.startsWith('{') ? [JSON.parse(outer.msg) as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    }),
    close,
  };
}

/** One route with ai-proxy for a deck file: the gateway's own key, statistics on; `options` as YAML lines. */
export function aiProxyRoute(r: { name: string; path: string; routeType: string; provider: string; model: string; upstreamUrl: string; options?: string[] }): string {
  const options = (r.options ?? []).map((o) => `\n                  ${o}`).join('');
  return `
      - name: ${r.name}
        paths: [${r.path}]
        plugins:
          - name: ai-proxy
            config:
              route_type: ${r.routeType}
              auth:
                header_name: Authorization
                header_value: Bearer sk-gateway-own-key
              model:
                provider: ${r.provider}
                name: ${r.model}
                options:
                  upstream_url: ${r.upstreamUrl}${options}
              logging:
                log_statistics: true`;
}
