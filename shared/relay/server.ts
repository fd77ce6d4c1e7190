// The loopback relay: an HTTP server on 127.0.0.1 (an ephemeral port) inside the plugin server
// process, started once, when the first plugin instance is created, and shared by every instance of
// the process. Kong proxies each handed-over request to /ai-relay/<token>; the relay answers it
// (handle-request.ts). It also serves Kong's AI metrics at /metrics, and on AI_GATEWAY_METRICS_LISTEN
// (host:port) when the plugin server's start command sets it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createLogger, type Logger } from '../plugin-server/logger';
import { registerDrainable } from '../plugin-server/drain';
import type { ProviderTimeouts } from './context';
import { KONG_SERVICE_TIMEOUTS, relayTimeouts } from './timeouts';
import { RequestHandler } from './handle-request';
import { AiMetrics, PROMETHEUS_CONTENT_TYPE } from './metrics';
import { RequestLog } from './request-log';
import { stderrSink, type LineSink } from '../logging/async-line-sink';
import { sendError } from './respond';
import { DEFAULT_MAX_TOKENS, DEFAULT_TOKEN_TTL_MS, TokenStore } from './token-store';
import { UpstreamClient } from './upstream-client';

export const RELAY_PREFIX = '/ai-relay/';
export const RELAY_HOST = '127.0.0.1';

export interface RelaySettings {
  metricsListen: { host: string; port: number } | null;
  /**
   * A fixed address for the relay, besides its ephemeral one (AI_GATEWAY_RELAY_LISTEN): a Service that
   * points at it spares every request the set_target round trip. Loopback only.
   */
  relayListen: { host: string; port: number } | null;
  tokenTtlMs: number;
  /** Provider timeouts for contexts that carry none. */
  defaultTimeouts: ProviderTimeouts;
  env: Readonly<Record<string, string | undefined>>;
}


function hostPort(v: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) > 65535) return null;
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * An address setting: the plugin's own variable (`<name>_AI_PROXY`, `<name>_AI_PROXY_ADVANCED`) wins over
 * the shared one, so one environment can give each plugin server its own port.
 */
function addressSetting(env: Readonly<Record<string, string | undefined>>, base: string, plugin: string, example: string,
  logger?: Logger): { host: string; port: number } | null {
  const own = `${base}_${plugin.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const name = env[own] ? own : base;
  const listen = env[name];
  const address = listen ? hostPort(listen) : null;
  if (listen && !address) logger?.warn(`${name} must look like ${example}, got "${listen}"; not listening`);
  return address;
}

export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>, plugin: string, logger?: Logger): RelaySettings {
  // Every listener of the plugin server is on loopback: Kong and a local scraper reach it there; anything
  // from further away goes through a Kong route, with Kong's authentication in front.
  const loopback = (name: string, a: { host: string; port: number } | null) => {
    if (a && !LOOPBACK.has(a.host)) {
      logger?.warn(`${name}: the plugin server listens on loopback only, not ${a.host}; ignored`);
      return null;
    }
    return a;
  };
  const metricsListen = loopback('AI_GATEWAY_METRICS_LISTEN', addressSetting(env, 'AI_GATEWAY_METRICS_LISTEN', plugin, '127.0.0.1:9542', logger));
  const relayListen = loopback('AI_GATEWAY_RELAY_LISTEN', addressSetting(env, 'AI_GATEWAY_RELAY_LISTEN', plugin, '127.0.0.1:9543', logger));
  return {
    metricsListen,
    relayListen,
    tokenTtlMs: DEFAULT_TOKEN_TTL_MS,
    defaultTimeouts: relayTimeouts(KONG_SERVICE_TIMEOUTS),
    env,
  };
}

export class Relay {
  readonly tokens: TokenStore;
  readonly metrics = new AiMetrics();
  readonly upstream = new UpstreamClient();
  private readonly handler: RequestHandler;
  private readonly servers: Server[] = [];
  private readonly started: Promise<number>;
  /** The fixed address, once this process listens there (during a reload the old one may hold it). */
  private fixed: { host: string; port: number } | undefined;
  private closing = false;
  /** Handed-over requests being answered. */
  private inFlight = 0;

  constructor(readonly settings: RelaySettings, private readonly logger: Logger, sink: LineSink = stderrSink) {
    this.tokens = new TokenStore({ ttlMs: settings.tokenTtlMs, max: DEFAULT_MAX_TOKENS });
    this.handler = new RequestHandler({
      upstream: this.upstream,
      log: new RequestLog(this.metrics, sink),
      env: settings.env,
      defaultTimeouts: settings.defaultTimeouts,
      warn: (m) => logger.warn(m),
    });
    this.started = this.start();
    // A failure is reported to every access phase that awaits the port; never an unhandled rejection.
    this.started.catch((e: Error) => logger.error(`AI relay could not start: ${e.message}`));
    // On SIGTERM the process serves what it has started (and the tokens it issued) before it exits.
    registerDrainable({
      name: 'relayed requests or unused relay tokens',
      busy: () => this.inFlight + this.tokens.live,
      close: () => this.close(),
    });
  }

  /** A warning line in the plugin server's log. */
  warn(message: string): void {
    this.logger.warn(message);
  }

  /** The relay's port, once it listens. */
  port(): Promise<number> {
    return this.started;
  }

  /** This relay listens at host:port (its fixed address): a Service pointing there needs no set_target. */
  listensAt(host: string | null, port: number | null): boolean {
    const f = this.fixed;
    return f !== undefined && port === f.port && host !== null && (host === f.host || (LOOPBACK.has(host) && LOOPBACK.has(f.host)));
  }

  /**
   * Listens at the fixed address. Kong's previous generation may still hold it (`kong reload`: it exits
   * once it has served what it started), so a busy address is tried again every second; until then
   * requests take set_target to the ephemeral port.
   */
  private listenFixed(at: { host: string; port: number }, relay: Server, warned = false): void {
    if (this.closing) return;
    this.listen(relay, at.host, at.port).then(
      () => {
        this.fixed = at;
        this.logger.info(`AI relay also listening on http://${at.host}:${at.port}: Services pointing there need no set_target`);
      },
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EADDRINUSE') {
          this.logger.error(`AI relay could not listen on ${at.host}:${at.port}: ${e.message}; requests use set_target`);
          return;
        }
        if (!warned) this.logger.warn(`AI relay: ${at.host}:${at.port} is in use (a previous generation?); trying again every second`);
        setTimeout(() => this.listenFixed(at, relay, true), 1000).unref();
      },
    );
  }

  private async start(): Promise<number> {
    // Kong keeps idle upstream connections 60 s: the relay keeps them longer, so Kong never reuses one
    // the relay is closing. Client headers Kong forwards can be large (cookies, tokens): 64 KB.
    const relay = createServer({ keepAliveTimeout: 75_000, headersTimeout: 30_000, requestTimeout: 300_000, maxHeaderSize: 65_536 }, (req, res) => this.route(req, res));
    const port = await this.listen(relay, RELAY_HOST, 0);
    this.logger.info(`AI relay listening on http://${RELAY_HOST}:${port} (Kong's AI metrics at /metrics)`);
    const fixed = this.settings.relayListen;
    if (fixed) this.listenFixed(fixed, createServer({ keepAliveTimeout: 75_000, headersTimeout: 30_000, requestTimeout: 300_000, maxHeaderSize: 65_536 }, (req, res) => this.route(req, res)));
    const m = this.settings.metricsListen;
    if (m) {
      const metrics = createServer((req, res) => (req.url?.split('?')[0] === '/metrics' && req.method === 'GET' ? this.serveMetrics(res) : this.notFound(req, res)));
      this.listen(metrics, m.host, m.port).then(
        (p) => this.logger.info(`AI metrics listening on http://${m.host}:${p}/metrics`),
        (e: Error) => this.logger.error(`AI metrics could not listen on ${m.host}:${m.port}: ${e.message}`),
      );
    }
    return port;
  }

  private listen(server: Server, host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.logger.error(`AI relay server error: ${e.message}`));
        this.servers.push(server);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    res.socket?.setNoDelay(true);
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith(RELAY_PREFIX)) {
      const rc = this.tokens.take(path.slice(RELAY_PREFIX.length));
      if (!rc) {
        // Unknown, used or expired: nothing about why (a guess learns nothing).
        req.resume();
        void sendError(req, res, 404, 'unknown or expired AI relay token', { code: 'relay_token_not_found' });
        return;
      }
      this.inFlight++;
      void this.handler.handle(rc, req, res).finally(() => { this.inFlight--; });
      return;
    }
    if (path === '/metrics' && req.method === 'GET') return this.serveMetrics(res);
    this.notFound(req, res);
  }

  private serveMetrics(res: ServerResponse): void {
    const body = this.metrics.render();
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private notFound(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    void sendError(req, res, 404, 'not found');
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
    await this.upstream.close();
  }
}

let shared: Relay | undefined;

/** The process's relay, started on first use (the first instance of `plugin`, the process's plugin). */
export function sharedRelay(plugin: string): Relay {
  if (!shared) {
    const logger = createLogger();
    shared = new Relay(settingsFromEnv(process.env, plugin, logger), logger);
  }
  return shared;
}
