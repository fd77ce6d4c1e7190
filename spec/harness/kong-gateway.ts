// A Kong stand-in for development and tests: it runs the real plugin server processes as Kong does,
// routes requests by the declarative config, runs external plugins through the msgpack RPC exactly as
// Kong 3.x does (see external-plugins.ts), and proxies to the upstream streaming, without buffering,
// unless a plugin on the route has a `response` phase (then Kong buffers the whole response).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { checkPluginInfo, encodeConfigForStartInstance, fillDefaults, pluginCacheKey, validateConfig } from './kong-schema';
import type { DeclarativeConfig, PluginEntity, RouteEntity } from './declarative-config';
import { ExternalPluginRunner, KongWorker, StartInstanceError, type PluginConf, type RegisteredPlugin } from './external-plugins';
import { serializeForLog, type CallScope, type PdkEnv } from './pdk-emulator';
import { PluginServerProcess, queryPluginInfo, type OutputLine, type PluginServerDef } from './plugin-server-process';
import { RequestContext, type ClientRequest, type HeaderEntry, type Phase } from './request-context';
import { Router } from './router';
import { RpcPool } from './rpc-connection';

export const KONG_VERSION_DEFAULT = '3.9.1';

export interface GatewayOptions {
  config: DeclarativeConfig;
  servers: PluginServerDef[];
  /** 3.6–3.8 register every plugin of a query dump, 3.9+ only the first. get_raw_body differs too. */
  kongVersion?: string;
  workers?: number;
  clientBodyBufferSize?: number;
  rpcTimeoutMs?: number;
  /** Kong's own log line for every request, built from the serializer (what Kong's loggers see). */
  onRequestLog?: (entry: Record<string, unknown>) => void;
  /** Kong's error.log. */
  onKongLog?: (level: string, message: string) => void;
  onServerOutput?: (line: OutputLine) => void;
  /**
   * Kong resolves a name to a bundled Lua plugin first, shadowing an external ai-proxy or
   * ai-prompt-guard. Our Kong image removes the bundled modules of those names, which this models
   * (default true); false models a stock Kong, where such a plugin is refused.
   */
  bundledNamesRemoved?: boolean;
}

interface ActivePlugin {
  plugin: RegisteredPlugin;
  entity: PluginEntity;
  conf: PluginConf;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length']);
const KONG_MESSAGES = {
  noRoute: 'no Route matched with those values',
  unexpected: 'An unexpected error occurred',
  badGateway: 'An invalid response was received from the upstream server',
  timeout: 'The upstream server is timed out',
};

/** Kong's env vault: `{vault://env/openai-api-key}` reads $OPENAI_API_KEY (Kong resolves it, not the plugin). */
export function resolveEnvVault(reference: string): string | undefined {
  const m = /^\{vault:\/\/env\/([A-Za-z0-9_-]+)\}$/.exec(reference);
  return m ? process.env[m[1]!.toUpperCase().replace(/-/g, '_')] : undefined;
}

export class KongGateway {
  readonly kongVersion: string;
  readonly processes: PluginServerProcess[];
  readonly workers: KongWorker[];
  readonly runner: ExternalPluginRunner;
  readonly plugins = new Map<string, RegisteredPlugin>();
  readonly kongLog: Array<{ level: string; message: string }> = [];
  private router: Router = new Router([]);
  private active: ActivePlugin[] = [];
  private seq = 0;
  private nextWorker = 0;
  private server: Server | undefined;
  private readonly agents = new Map<string, Agent>();
  private readonly env: PdkEnv;
  /** Log phases still running (they run after the response, like Kong's timers). */
  private readonly pendingLogs = new Set<Promise<void>>();

  constructor(private readonly opts: GatewayOptions) {
    this.kongVersion = opts.kongVersion ?? KONG_VERSION_DEFAULT;
    // A plugin that breaks the protocol in ways Kong cannot see on the wire (a PDK call after exit) is
    // reported by our plugin server on its output, which Kong logs; the harness counts those lines.
    this.processes = opts.servers.map((d) => new PluginServerProcess(d, (line) => {
      if (/\[error\] protocol violation:/.test(line.line)) this.runner.violation(line.server, line.line);
      opts.onServerOutput?.(line);
    }));
    this.workers = Array.from({ length: opts.workers ?? 2 }, (_, i) => new KongWorker(i, opts.rpcTimeoutMs ?? 60_000));
    this.env = {
      kongVersion: this.kongVersion,
      clientBodyBufferSize: opts.clientBodyBufferSize ?? 8192,
      nodeId: randomUUID(),
      hostname: hostname(),
      log: (plugin, level, message) => this.kongLogLine(level, `[${plugin}] ${message}`),
    };
    this.runner = new ExternalPluginRunner(this.workers, this.env, (l, m) => this.kongLogLine(l, m));
  }

  get violations() {
    return this.runner.violations;
  }

  /** Each plugin server's GetStatus (benchmarks read CPU and memory from it; Kong never calls it). */
  async serverStatuses(opts: { gc?: boolean } = {}): Promise<Array<{ server: string; status: unknown }>> {
    return Promise.all(this.processes.map(async (p) => {
      const pool = new RpcPool(p.def.socketPath, 10_000);
      try {
        return { server: p.def.name, status: await pool.call(1, 'plugin.GetStatus', [opts.gc ? { Gc: true } : null], () => {}) };
      } finally {
        pool.close();
      }
    }));
  }

  /** Every line the plugin servers printed (Kong logs them at INFO). */
  serverOutput(): OutputLine[] {
    return this.processes.flatMap((p) => p.output);
  }

  private kongLogLine(level: string, message: string): void {
    this.kongLog.push({ level, message });
    if (this.kongLog.length > 5000) this.kongLog.splice(0, 1000);
    this.opts.onKongLog?.(level, message);
  }

  /** Kong's init: query every plugin server, check what it reports, start the processes. */
  async start(): Promise<void> {
    const minor = Number(this.kongVersion.split('.')[1]);
    for (const proc of this.processes) {
      const dump = await queryPluginInfo(proc.def);
      const infos = Array.isArray(dump) ? dump : (dump as { Plugins?: unknown[] } | null)?.Plugins;
      if (!Array.isArray(infos) || (minor >= 9 && infos.length === 0)) {
        throw new Error(`pluginserver ${proc.def.name}: the query command returned no plugin`);
      }
      for (const info of minor >= 9 ? infos.slice(0, 1) : infos) {
        const problems = checkPluginInfo(info, { allowBundledName: this.opts.bundledNamesRemoved ?? true });
        if (problems.length) throw new Error(`pluginserver ${proc.def.name}: plugin refused: ${problems.join('; ')}`);
        const i = info as { Name: string; Priority: number; Version: string; Phases: string[]; Schema: { fields: Array<{ config: { fields: unknown[] } }> } };
        if (this.plugins.has(i.Name)) {
          this.kongLogLine('warn', `plugin ${i.Name} already registered by another plugin server; ignored`);
          continue;
        }
        this.plugins.set(i.Name, {
          name: i.Name, priority: i.Priority, version: i.Version, phases: i.Phases,
          configFields: i.Schema.fields[0]!.config.fields, server: proc.def,
        });
      }
    }
    this.configure(this.opts.config);
    for (const proc of this.processes) proc.start();
    await Promise.all(this.processes.map((p) => p.waitForSocket()));
  }

  /** Loads (or reloads) a declarative config; a reload bumps __seq__ as Kong's router rebuild does. */
  configure(config: DeclarativeConfig): void {
    this.seq++;
    const active: ActivePlugin[] = [];
    for (const entity of config.plugins) {
      const plugin = this.plugins.get(entity.name);
      if (!plugin) throw new Error(`${entity.name} plugin is enabled but not installed`);
      if (!entity.enabled) continue;
      const filled = fillDefaults(plugin.configFields, entity.config);
      const problems = validateConfig(plugin.configFields, filled);
      if (problems.length) throw new Error(`plugin ${entity.name} (${entity.id}): schema violation: ${problems.join('; ')}`);
      const wsId = '00000000-0000-4000-8000-000000000000';
      const configJson = encodeConfigForStartInstance(filled, {
        route_id: entity.route?.id ?? null,
        service_id: entity.service?.id ?? null,
        consumer_id: null,
        plugin_instance_name: entity.instance_name,
        __plugin_id: entity.id,
        __ws_id: wsId,
        __key__: pluginCacheKey({ name: entity.name, routeId: entity.route?.id, serviceId: entity.service?.id, wsId }),
        __seq__: this.seq,
      }, { schema: plugin.configFields, resolveReference: resolveEnvVault });
      active.push({ plugin, entity, conf: { pluginId: entity.id, seq: this.seq, configJson } });
    }
    this.active = active;
    this.router = new Router(config.routes);
  }

  /** The plugins that run for a route, most specific config per name, highest priority first. */
  private pluginsFor(route: RouteEntity): ActivePlugin[] {
    const byName = new Map<string, { ap: ActivePlugin; rank: number }>();
    for (const ap of this.active) {
      const e = ap.entity;
      const rank = e.route ? (e.route.id === route.id ? 3 : 0) : e.service ? (e.service.id === route.service.id ? 2 : 0) : 1;
      if (rank === 0) continue;
      const cur = byName.get(e.name);
      if (!cur || rank > cur.rank) byName.set(e.name, { ap, rank });
    }
    return [...byName.values()].map((x) => x.ap).sort((a, b) => b.plugin.priority - a.plugin.priority);
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.kongLogLine('error', `unhandled: ${e.stack ?? e.message}`);
        if (!res.headersSent) this.sendKongError(res, 500, KONG_MESSAGES.unexpected, '');
        else res.destroy();
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        resolve({ host, port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
    await Promise.allSettled([...this.pendingLogs]);
    for (const w of this.workers) w.close();
    await Promise.all(this.processes.map((p) => p.stop()));
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }

  /** Waits for the log phases of finished requests (they run after the response, as in Kong). */
  async settled(): Promise<void> {
    while (this.pendingLogs.size) await Promise.allSettled([...this.pendingLogs]);
  }

  private sendKongError(res: ServerResponse, status: number, message: string, requestId: string): void {
    const body = JSON.stringify({ message, request_id: requestId || undefined });
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      Server: `kong/${this.kongVersion}`,
      'X-Kong-Request-Id': requestId,
    });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawUri = req.url ?? '/';
    const hostHeader = req.headers.host ?? '';
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const local = req.socket.localPort ?? 0;
    const client: ClientRequest = {
      method: req.method ?? 'GET', rawUri, headers, body: Buffer.concat(chunks),
      remoteAddress: req.socket.remoteAddress ?? '127.0.0.1', remotePort: req.socket.remotePort ?? 0,
      host: hostHeader.replace(/:\d+$/, ''), port: local, scheme: 'http',
      httpVersion: Number(req.httpVersion) || 1.1,
    };
    const path = rawUri.split('?')[0]!;
    const match = this.router.match(client.method, hostHeader, path);
    if (!match) {
      this.sendKongError(res, 404, KONG_MESSAGES.noRoute, '');
      return;
    }
    const ctx = new RequestContext(client, match.route, match.route.service, match.strippedPath, match.uriCaptures);
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    const plugins = this.pluginsFor(match.route);
    const scopes = new Map<ActivePlugin, CallScope>();
    const scopeFor = (ap: ActivePlugin, phase: Phase): CallScope => {
      const s = scopes.get(ap) ?? { ctx, plugin: ap.plugin.name, pluginId: ap.entity.id, phase };
      s.phase = phase;
      scopes.set(ap, s);
      return s;
    };

    // rewrite runs only for global plugins; access for all, in priority order, until one exits.
    let failed = false;
    for (const phase of ['rewrite', 'access'] as const) {
      for (const ap of plugins) {
        if (!ap.plugin.phases.includes(phase)) continue;
        if (phase === 'rewrite' && (ap.entity.route || ap.entity.service)) continue;
        ctx.phase = phase;
        const r = await this.runPhase(worker, ap, phase, scopeFor(ap, phase));
        if (r === 'error') { failed = true; break; }
        if (ctx.exit) break;
      }
      if (failed || ctx.exit) break;
    }

    if (failed) {
      this.sendKongError(res, 500, KONG_MESSAGES.unexpected, ctx.id);
      ctx.sent = { status: 500, headers: new Map(), size: 0 };
    } else if (ctx.exit) {
      this.sendExit(res, ctx);
    } else {
      const buffered = ctx.upstream.buffered || plugins.some((ap) => ap.plugin.phases.includes('response'));
      await this.proxy(res, ctx, buffered ? plugins.filter((ap) => ap.plugin.phases.includes('response')) : undefined,
        worker, scopeFor);
    }

    // Kong's own loggers see the serializer now; external log phases run afterwards in a timer.
    const serialized = serializeForLog(ctx, this.env);
    this.opts.onRequestLog?.(serialized);
    const logs = plugins.filter((ap) => ap.plugin.phases.includes('log'));
    if (logs.length) {
      const p = (async () => {
        await new Promise((r) => setImmediate(r));
        for (const ap of logs) {
          const s = scopeFor(ap, 'log');
          s.serialized = serialized;
          s.ended = false;
          ctx.phase = 'log';
          await this.runPhase(worker, ap, 'log', s).catch(() => {});
        }
      })();
      this.pendingLogs.add(p);
      p.finally(() => this.pendingLogs.delete(p));
    }
  }

  /** One plugin phase. 'error' means Kong would answer 500 (Lua error or failed StartInstance). */
  private async runPhase(worker: KongWorker, ap: ActivePlugin, phase: Phase, scope: CallScope): Promise<'ok' | 'error'> {
    try {
      const r = await this.runner.handleEvent(worker, ap.plugin, ap.conf, phase, scope);
      return r.kind === 'lua-error' && phase !== 'log' ? 'error' : 'ok';
    } catch (e) {
      if (e instanceof StartInstanceError) return 'error';
      throw e;
    }
  }

  private baseResponseHeaders(ctx: RequestContext, extra: Map<string, HeaderEntry>): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const e of extra.values()) out[e.name] = e.values.length === 1 ? e.values[0]! : e.values;
    for (const [k, e] of ctx.downstreamHeaders) {
      for (const name of Object.keys(out)) if (name.toLowerCase() === k) delete out[name];
      if (e) out[e.name] = e.values.length === 1 ? e.values[0]! : e.values;
    }
    out['X-Kong-Request-Id'] = ctx.id;
    return out;
  }

  private sendExit(res: ServerResponse, ctx: RequestContext): void {
    const exit = ctx.exit!;
    const headers = new Map(exit.headers);
    headers.delete('transfer-encoding');
    headers.delete('content-length');
    const out = this.baseResponseHeaders(ctx, new Map());
    for (const e of headers.values()) out[e.name] = e.values.length === 1 ? e.values[0]! : e.values;
    out['Content-Length'] = String(exit.body.length);
    out['X-Kong-Response-Latency'] = String(Date.now() - ctx.startedAt);
    out.Server = `kong/${this.kongVersion}`;
    res.writeHead(exit.status, out);
    res.end(exit.body);
    ctx.sent = { status: exit.status, headers: toHeaderMap(out), size: exit.body.length };
  }

  private agentFor(connectMs: number, tlsVerify: boolean): Agent {
    const key = `${connectMs}:${tlsVerify}`;
    let a = this.agents.get(key);
    if (!a) {
      a = new Agent({ connect: { timeout: connectMs, rejectUnauthorized: tlsVerify }, keepAliveTimeout: 60_000 });
      this.agents.set(key, a);
    }
    return a;
  }

  private async proxy(res: ServerResponse, ctx: RequestContext, responsePlugins: ActivePlugin[] | undefined,
    worker: KongWorker, scopeFor: (ap: ActivePlugin, phase: Phase) => CallScope): Promise<void> {
    const up = ctx.upstream;
    const hostHeader = up.targetSet || (up.port === 80 && up.scheme === 'http') || (up.port === 443 && up.scheme === 'https')
      ? up.host : `${up.host}:${up.port}`;
    const headers: Record<string, string | string[]> = {};
    for (const [k, e] of up.headers) {
      if (HOP_BY_HOP.has(k) || k === 'host') continue;
      headers[k] = e.values.length === 1 ? e.values[0]! : e.values;
    }
    const clientHost = ctx.client.headers.find(([n]) => n.toLowerCase() === 'host')?.[1] ?? '';
    headers.host = ctx.route.preserve_host && !up.targetSet ? clientHost : hostHeader;
    headers['x-forwarded-for'] = ctx.client.remoteAddress;
    headers['x-forwarded-proto'] = ctx.client.scheme;
    headers['x-forwarded-host'] = ctx.client.host;
    headers['x-forwarded-port'] = String(ctx.client.port);
    headers['x-forwarded-path'] = ctx.clientPath;
    headers['x-real-ip'] = ctx.client.remoteAddress;
    // Kong 3.5+ default `headers_upstream = X-Kong-Request-Id`: the request id travels upstream.
    headers['x-kong-request-id'] = ctx.id;
    const hasBody = up.body.length > 0 || !['GET', 'HEAD'].includes(up.method);
    if (hasBody) headers['content-length'] = String(up.body.length);
    const url = `${up.scheme}://${up.host.includes(':') ? `[${up.host}]` : up.host}:${up.port}${ctx.upstreamUri}`;

    ctx.upstreamStartedAt = Date.now();
    ctx.tries = 1;
    // nginx's proxy_read_timeout, to the millisecond, between two reads (the headers are the first):
    // undici's own timeouts tick every half second and may fire that much early or late, so they are
    // only a backstop here.
    const headersWait = new AbortController();
    let readTimedOut = false;
    let upstreamBody: Dispatcher.ResponseData['body'] | undefined;
    const readTimer = setTimeout(() => {
      readTimedOut = true;
      if (upstreamBody) upstreamBody.destroy(new Error('upstream timed out (proxy_read_timeout)'));
      else headersWait.abort();
    }, up.timeouts.read);
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await undiciRequest(url, {
        method: up.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? up.body : undefined,
        dispatcher: this.agentFor(up.timeouts.connect, up.tlsVerify ?? true),
        headersTimeout: up.timeouts.read + 1000,
        bodyTimeout: up.timeouts.read + 1000,
        signal: headersWait.signal,
      });
      upstreamBody = upstream.body;
      readTimer.refresh();
      upstream.body.once('close', () => clearTimeout(readTimer));
    } catch (e) {
      clearTimeout(readTimer);
      const code = readTimedOut ? 'UND_ERR_HEADERS_TIMEOUT' : (e as { code?: string }).code ?? '';
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
      this.kongLogLine('error', `upstream ${url.split('?')[0]}: ${code || (e as Error).message}`);
      const status = timedOut ? 504 : 502;
      this.sendKongError(res, status, timedOut ? KONG_MESSAGES.timeout : KONG_MESSAGES.badGateway, ctx.id);
      ctx.sent = { status, headers: new Map(), size: 0 };
      return;
    }
    ctx.upstreamFirstByteAt = Date.now();
    const upHeaders = new Map<string, HeaderEntry>();
    for (const [k, v] of Object.entries(upstream.headers)) {
      if (v === undefined) continue;
      upHeaders.set(k, { name: k, values: Array.isArray(v) ? v : [v] });
    }
    const kongHeaders = (): Record<string, string | string[]> => {
      const passed = new Map([...upHeaders].filter(([k]) => !HOP_BY_HOP.has(k)));
      const out = this.baseResponseHeaders(ctx, passed);
      out['X-Kong-Upstream-Latency'] = String(ctx.upstreamFirstByteAt - ctx.upstreamStartedAt);
      out['X-Kong-Proxy-Latency'] = String(ctx.upstreamStartedAt - ctx.startedAt);
      out.Via = `1.1 kong/${this.kongVersion}`;
      return out;
    };

    if (responsePlugins) {
      // Kong.response(): the whole upstream body first, then the response phase, then one print.
      clearTimeout(readTimer); // buffered: undici's timeout (coarse) is the only one here
      const body = Buffer.from(await upstream.body.arrayBuffer());
      ctx.upstreamResponse = { status: upstream.statusCode, headers: upHeaders, body };
      for (const ap of responsePlugins) {
        ctx.phase = 'response';
        const r = await this.runPhase(worker, ap, 'response', scopeFor(ap, 'response'));
        if (r === 'error') {
          this.sendKongError(res, 500, KONG_MESSAGES.unexpected, ctx.id);
          ctx.sent = { status: 500, headers: new Map(), size: 0 };
          return;
        }
        if (ctx.exit) { this.sendExit(res, ctx); return; }
      }
      const out = kongHeaders();
      out['Content-Length'] = String(body.length);
      res.writeHead(ctx.downstreamStatus ?? upstream.statusCode, out);
      res.end(body);
      ctx.sent = { status: ctx.downstreamStatus ?? upstream.statusCode, headers: toHeaderMap(out), size: body.length };
      return;
    }

    ctx.upstreamResponse = { status: upstream.statusCode, headers: upHeaders, body: undefined };
    const out = kongHeaders();
    res.socket?.setNoDelay(true);
    res.writeHead(ctx.downstreamStatus ?? upstream.statusCode, out);
    res.flushHeaders();
    let size = 0;
    try {
      for await (const chunk of upstream.body) {
        if (res.destroyed) {
          // The client went away: nginx closes the upstream connection too.
          upstream.body.destroy();
          break;
        }
        readTimer.refresh();
        size += (chunk as Buffer).length;
        if (!res.write(chunk)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
      }
      res.end();
    } catch (e) {
      // nginx cuts the client connection when the upstream breaks mid-body.
      this.kongLogLine('error', `upstream body: ${(e as Error).message}`);
      res.destroy();
    }
    ctx.sent = { status: ctx.downstreamStatus ?? upstream.statusCode, headers: toHeaderMap(out), size };
  }
}

function toHeaderMap(h: Record<string, string | string[]>): Map<string, HeaderEntry> {
  const m = new Map<string, HeaderEntry>();
  for (const [k, v] of Object.entries(h)) m.set(k.toLowerCase(), { name: k, values: Array.isArray(v) ? v : [v] });
  return m;
}
