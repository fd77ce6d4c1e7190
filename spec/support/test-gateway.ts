// Starts the Kong-side harness for a test: real plugin server processes over the compiled plugins (and
// optionally the harness fixture plugins), a declarative config given inline, a listening proxy port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDeclarativeConfig } from '../../tools/harness/declarative-config';
import { KongGateway, type GatewayOptions } from '../../tools/harness/kong-gateway';
import { pluginServerDefs, type LayoutOptions } from '../../tools/harness/plugin-server-layout';

export const FIXTURE_PLUGINS = resolve(__dirname, '../../../spec/fixtures/harness-plugins');

export interface TestGatewayOptions extends Partial<Omit<GatewayOptions, 'config' | 'servers'>> {
  /** A deck-format document (services, routes, plugins). */
  config: unknown;
  /** Also run the harness fixture plugins (harness-probe, harness-probe-low, needs-config). */
  fixtures?: boolean;
  layout?: Partial<LayoutOptions>;
  /** Protocol violations fail the test at close() unless a test expects them. */
  allowViolations?: boolean;
}

export interface TestGateway {
  gw: KongGateway;
  url: string;
  prefix: string;
  close(): Promise<void>;
}

export async function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  const prefix = mkdtempSync(join(tmpdir(), 'kong-test-'));
  const declarative = parseDeclarativeConfig(o.config);
  // Start only the plugin servers the config uses: each is a Node process, and tests start many gateways.
  const only = o.layout?.mode === 'single' ? undefined : [...new Set(declarative.plugins.map((p) => p.name))];
  const servers = [
    ...pluginServerDefs({ prefix, only, ...o.layout }),
    ...(o.fixtures ? pluginServerDefs({ prefix, only, nodeArgs: o.layout?.nodeArgs, pluginsDir: FIXTURE_PLUGINS }) : []),
  ];
  const { config: _c, fixtures: _f, layout: _l, allowViolations, ...rest } = o;
  const gw = new KongGateway({ ...rest, config: declarative, servers });
  try {
    await gw.start();
    const addr = await gw.listen('127.0.0.1', 0);
    return {
      gw,
      url: `http://127.0.0.1:${addr.port}`,
      prefix,
      async close() {
        await gw.settled();
        await gw.close();
        rmSync(prefix, { recursive: true, force: true });
        if (!allowViolations && gw.violations.length > 0) {
          throw new Error(`the plugins broke Kong's protocol:\n${gw.violations.map((v) => `${v.plugin}: ${v.message}`).join('\n')}`);
        }
      },
    };
  } catch (e) {
    await gw.close().catch(() => {});
    rmSync(prefix, { recursive: true, force: true });
    throw e;
  }
}

/** A one-service, one-route deck document with the given plugins on the route. */
export function routeConfig(plugins: unknown[], opts: { path?: string; url?: string } = {}): unknown {
  return {
    _format_version: '3.0',
    services: [{
      name: 'svc',
      url: opts.url ?? 'http://127.0.0.1:9',
      routes: [{ name: 'r', paths: [opts.path ?? '/t'], plugins }],
    }],
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * An ai-proxy plugin entry for an OpenAI-format fake at `baseUrl`, with a Bearer key and statistics on;
 * `config` replaces top-level fields (its `model` is merged into the model record), `options` the model's.
 */
export function openaiProxyPlugin(baseUrl: string, key: string, config: Record<string, unknown> = {},
  options: Record<string, unknown> = {}): Record<string, unknown> {
  const { model, ...rest } = config as { model?: Record<string, unknown> };
  return {
    name: 'ai-proxy',
    config: {
      route_type: 'llm/v1/chat',
      auth: { header_name: 'Authorization', header_value: `Bearer ${key}` },
      model: { provider: 'openai', options: { upstream_url: `${baseUrl}/v1/chat/completions`, ...options }, ...model },
      logging: { log_statistics: true },
      ...rest,
    },
  };
}
