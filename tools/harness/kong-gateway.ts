// A Kong stand-in for development and tests: it runs the real plugin server processes as Kong does,
// routes requests by the declarative config, runs external plugins through the msgpack RPC exactly as
// Kong 3.x does (see external-plugins.ts), and proxies to the upstream as nginx does (upstream-proxy.ts).
//
// Kong's process model is kept where plugins can tell: several workers, each with its own plugin
// instances and its own `__seq__` per plugin config (drawn from one shared counter, as
// plugins_iterator.lua does); `reload()` starts a new generation (new workers, new plugin server
// processes on the same socket paths) while the old one finishes its requests, and the old workers'
// worker 0 sends SIGTERM to the old plugin servers once it exits (process.lua, stop_pluginservers).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { fillDefaults, validateConfig } from './kong-config-validation';
import { checkPluginInfo } from './kong-metaschema';
import { encodeConfigForStartInstance, pluginCacheKey } from './start-instance-config';
import type { DeclarativeConfig, PluginEntity, RouteEntity } from './declarative-config';
import { ExternalPluginRunner, KongWorker, StartInstanceError, type PluginConf, type RegisteredPlugin } from './external-plugins';
import { KONG_MESSAGES, kongErrorBody } from './kong-errors';
import { serializeForLog, type CallScope, type PdkEnv } from './pdk-emulator';
import { PluginServerProcess, queryPluginInfo, type OutputLine, type PluginServerDef } from './plugin-server-process';
import { RequestContext, type ClientRequest, type HeaderEntry, type Phase } from './request-context';
import { Router } from './router';
import { RpcPool } from './rpc-connection';
import { DEFAULT_PROXY_BUFFER_SIZE, toHeaderMap, UpstreamProxy } from './upstream-proxy';

export const KONG_VERSION_DEFAULT = '3.9.3';

export interface GatewayOptions {
  config: DeclarativeConfig;
  servers: PluginServerDef[];
  /** 3.6–3.8 register every plugin of a query dump, 3.9+ only the first. get_raw_body differs too. */
  kongVersion?: string;
  workers?: number;
  clientBodyBufferSize?: number;
  /**
   * nginx's client_max_body_size in bytes: a larger body gets Kong's 413 before any plugin runs. 0 (Kong's
   * default) is unlimited; our Kong image sets 4m.
   */
  clientMaxBodySize?: number;
  /** proxy_buffering's buffer size (default one 4 KiB page). */
  proxyBufferSize?: number;
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
  /** Per worker (by id): each worker's instance of a config has its own __seq__. */
  confs: PluginConf[];
}

/** One nginx generation: its workers, the plugin server processes its worker 0 started, its load. */
class Generation {
  readonly workers: KongWorker[];
  readonly processes: PluginServerProcess[];
  /** Requests each worker is handling (log phases included). */
  readonly inFlight: number[];
  retired = false;
  /** Resolves once every plugin server of this generation has exited (after retirement). */
  exited: Promise<void> | undefined;
  private readonly exitedWorkers = new Set<number>();

  constructor(readonly id: number, workers: number, rpcTimeoutMs: number, defs: PluginServerDef[],
    onLine: (l: OutputLine) => void) {
    this.workers = Array.from({ length: workers }, (_, i) => new KongWorker(i, rpcTimeoutMs));
    for (const w of this.workers) w.peers = this.workers;
    this.processes = defs.map((d) => new PluginServerProcess(d, onLine));
    this.inFlight = this.workers.map(() => 0);
  }

  /** A retired worker with nothing left to do exits; worker 0 stops the plugin servers as it goes. */
  exitIdleWorkers(): void {
    if (!this.retired) return;
    for (const w of this.workers) {
      if (this.inFlight[w.id]! > 0 || this.exitedWorkers.has(w.id)) continue;
      this.exitedWorkers.add(w.id);
      w.close();
      if (w.id === 0) this.exited = Promise.all(this.processes.map((p) => p.terminate())).then(() => undefined);
    }
  }
}

export class KongGateway {
  readonly kongVersion: string;
  readonly runner: ExternalPluginRunner;
  plugins = new Map<string, RegisteredPlugin>();
  readonly kongLog: Array<{ level: string; message: string }> = [];
  private router: Router = new Router([]);
  private active: ActivePlugin[] = [];
  /** ngx.shared.kong's "plugins_iterator:__seq__": one counter for every worker and generation. */
  private seqCounter = 0;
  private nextWorker = 0;
  private server: Server | undefined;
  private readonly env: PdkEnv;
  private readonly upstream: UpstreamProxy;
  private generation: Generation;
  private readonly retired: Generation[] = [];
  /** Log phases still running (they run after the response, like Kong's timers). */
  private readonly pendingLogs = new Set<Promise<void>>();
  private currentConfig: DeclarativeConfig;

  constructor(private readonly opts: GatewayOptions) {
    this.kongVersion = opts.kongVersion ?? KONG_VERSION_DEFAULT;
    this.currentConfig = opts.config;
    this.generation = this.newGeneration(0);
    this.env = {
      kongVersion: this.kongVersion,
      clientBodyBufferSize: opts.clientBodyBufferSize ?? 8192,
      nodeId: randomUUID(),
      hostname: hostname(),
      log: (plugin, level, message) => this.kongLogLine(level, `[${plugin}] ${message}`),
    };
    this.runner = new ExternalPluginRunner(this.env, (l, m) => this.kongLogLine(l, m));
    this.upstream = new UpstreamProxy({
      kongVersion: this.kongVersion,
      proxyBufferSize: opts.proxyBufferSize ?? DEFAULT_PROXY_BUFFER_SIZE,
      log: (l, m) => this.kongLogLine(l, m),
      sendKongError: (res, status, message, ctx) => this.sendKongError(res, status, message, ctx),
      responseHeaders: (ctx, extra) => this.baseResponseHeaders(ctx, extra),
    });
  }

  private newGeneration(id: number): Generation {
    // A plugin that breaks the protocol in ways Kong cannot see on the wire (a PDK call after exit) is
    // reported by our plugin server on its output, which Kong logs; the harness counts those lines.
    return new Generation(id, this.opts.workers ?? 2, this.opts.rpcTimeoutMs ?? 60_000, this.opts.servers, (line) => {
      if (/\[error\] protocol violation:/.test(line.line)) this.runner.violation(line.server, line.line);
      this.opts.onServerOutput?.(line);
    });
  }

  /** The current generation's plugin server processes. */
  get processes(): PluginServerProcess[] {
    return this.generation.processes;
  }

  /** The current generation's workers. */
  get workers(): KongWorker[] {
    return this.generation.workers;
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

  /** Every line the plugin servers printed (Kong logs them at INFO), every generation. */
  serverOutput(): OutputLine[] {
    return [...this.retired, this.generation].flatMap((g) => g.processes.flatMap((p) => p.output));
  }

  private kongLogLine(level: string, message: string): void {
    this.kongLog.push({ level, message });
    if (this.kongLog.length > 5000) this.kongLog.splice(0, 1000);
    this.opts.onKongLog?.(level, message);
  }

  /** Kong's master at start or reload: query every plugin server and check what it reports. */
  private async registerPlugins(): Promise<Map<string, RegisteredPlugin>> {
    const minor = Number(this.kongVersion.split('.')[1]);
    const plugins = new Map<string, RegisteredPlugin>();
    for (const def of this.opts.servers) {
      const dump = await queryPluginInfo(def);
      const infos = Array.isArray(dump) ? dump : (dump as { Plugins?: unknown[] } | null)?.Plugins;
      if (!Array.isArray(infos) || (minor >= 9 && infos.length === 0)) {
        throw new Error(`pluginserver ${def.name}: the query command returned no plugin`);
      }
      for (const info of minor >= 9 ? infos.slice(0, 1) : infos) {
        const problems = checkPluginInfo(info, { allowBundledName: this.opts.bundledNamesRemoved ?? true });
        if (problems.length) throw new Error(`pluginserver ${def.name}: plugin refused: ${problems.join('; ')}`);
        const i = info as { Name: string; Priority: number; Version: string; Phases: string[]; Schema: { fields: Array<{ config: { fields: unknown[] } }> } };
        if (plugins.has(i.Name)) {
          this.kongLogLine('warn', `plugin ${i.Name} already registered by another plugin server; ignored`);
          continue;
        }
        plugins.set(i.Name, {
          name: i.Name, priority: i.Priority, version: i.Version, phases: i.Phases,
          configFields: i.Schema.fields[0]!.config.fields, server: def,
        });
      }
    }
    return plugins;
  }

  /** Kong's init: query every plugin server, check what it reports, start the processes. */
  async start(): Promise<void> {
    this.plugins = await this.registerPlugins();
    this.configure(this.opts.config);
    for (const proc of this.processes) proc.start();
    await Promise.all(this.processes.map((p) => p.waitUntilServing()));
  }

  /**
   * `kong reload`: a new generation of workers and plugin servers (same socket paths) takes the new
   * requests at once; the old workers finish theirs, and when the old worker 0 exits it sends SIGTERM
   * to the old plugin servers. Resolves once the new plugin servers serve; `reloadSettled()` waits for
   * the old ones to exit.
   */
  async reload(config: DeclarativeConfig = this.currentConfig): Promise<void> {
    const plugins = await this.registerPlugins();
    const old = this.generation;
    const next = this.newGeneration(old.id + 1);
    // A config the new generation cannot load leaves the running one as it is.
    const active = this.activePlugins(config, plugins, next.workers);
    this.generation = next;
    this.plugins = plugins;
    this.install(config, active);
    for (const proc of this.processes) proc.start();
    this.retired.push(old);
    try {
      await Promise.all(this.processes.map((p) => p.waitUntilServing()));
    } finally {
      // The old workers stop taking requests at once and exit once idle; Kong's take seconds (its timers
      // end), long after the new plugin servers listen, so the old worker 0 stops its servers only then.
      old.retired = true;
      old.exitIdleWorkers();
    }
  }

  /** Waits until every retired generation's plugin servers have exited. */
  async reloadSettled(): Promise<void> {
    for (;;) {
      const pending = this.retired.filter((g) => g.exited === undefined);
      await Promise.all(this.retired.map((g) => g.exited));
      if (pending.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Loads a declarative config (DB-less `POST /config`); every worker's instance of a plugin gets a new __seq__. */
  configure(config: DeclarativeConfig): void {
    this.install(config, this.activePlugins(config, this.plugins, this.workers));
  }

  private install(config: DeclarativeConfig, active: ActivePlugin[]): void {
    this.currentConfig = config;
    this.active = active;
    this.router = new Router(config.routes);
  }

  /** Each enabled plugin of `config` with its StartInstance config per worker. Throws for a bad config. */
  private activePlugins(config: DeclarativeConfig, plugins: ReadonlyMap<string, RegisteredPlugin>,
    workers: readonly KongWorker[]): ActivePlugin[] {
    const active: ActivePlugin[] = [];
    for (const entity of config.plugins) {
      const plugin = plugins.get(entity.name);
      if (!plugin) throw new Error(`${entity.name} plugin is enabled but not installed`);
      if (!entity.enabled) continue;
      const filled = fillDefaults(plugin.configFields, entity.config);
      const problems = validateConfig(plugin.configFields, filled);
      if (problems.length) throw new Error(`plugin ${entity.name} (${entity.id}): schema violation: ${problems.join('; ')}`);
      const wsId = '00000000-0000-4000-8000-000000000000';
      const confs = workers.map(() => {
        const seq = ++this.seqCounter;
        const configJson = encodeConfigForStartInstance(filled, {
          route_id: entity.route?.id ?? null,
          service_id: entity.service?.id ?? null,
          consumer_id: null,
          plugin_instance_name: entity.instance_name,
          __plugin_id: entity.id,
          __ws_id: wsId,
          __key__: pluginCacheKey({ name: entity.name, routeId: entity.route?.id, serviceId: entity.service?.id, wsId }),
          __seq__: seq,
        }, { schema: plugin.configFields, resolveReference: resolveEnvVault });
        return { pluginId: entity.id, seq, configJson };
      });
      active.push({ plugin, entity, confs });
    }
    return active;
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
        if (!res.headersSent) this.sendKongError(res, 500, KONG_MESSAGES.unexpected, undefined, req);
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
    for (const g of [...this.retired, this.generation]) {
      for (const w of g.workers) w.close();
      await Promise.all(g.processes.map((p) => p.stop()));
    }
    await this.upstream.close();
  }

  /** Waits for the log phases of finished requests (they run after the response, as in Kong). */
  async settled(): Promise<void> {
    while (this.pendingLogs.size) await Promise.allSettled([...this.pendingLogs]);
  }

  /** Kong's own error response, in the media type the client's Accept asks for. */
  private sendKongError(res: ServerResponse, status: number, message: string, ctx: RequestContext | undefined,
    req?: IncomingMessage): void {
    const requestId = ctx?.id ?? randomUUID().replace(/-/g, '');
    const accept = ctx ? ctx.client.headers.find(([n]) => n.toLowerCase() === 'accept')?.[1] : req?.headers.accept;
    const { contentType, body } = kongErrorBody(message, requestId, accept);
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
      Server: `kong/${this.kongVersion}`,
      'X-Kong-Request-Id': requestId,
    });
    res.end(body);
    if (ctx) ctx.sent = { status, headers: new Map(), size: Buffer.byteLength(body) };
  }

  /**
   * Reads the client's body as nginx does with client_max_body_size: a declared Content-Length over
   * the limit is refused before any byte is read, a chunked body as soon as it grows past it.
   */
  private async readClientBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
    const max = this.opts.clientMaxBodySize ?? 0;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (max > 0 && declared > max) return 'too-large';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (max > 0 && size > max) return 'too-large';
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.readClientBody(req);
    if (body === 'too-large') {
      // nginx answers through Kong's error handler and closes the connection (the body stays unread).
      res.shouldKeepAlive = false;
      this.sendKongError(res, 413, KONG_MESSAGES.payloadTooLarge, undefined, req);
      req.socket.destroySoon();
      return;
    }
    const rawUri = req.url ?? '/';
    const hostHeader = req.headers.host ?? '';
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const local = req.socket.localPort ?? 0;
    const client: ClientRequest = {
      method: req.method ?? 'GET', rawUri, headers, body,
      remoteAddress: req.socket.remoteAddress ?? '127.0.0.1', remotePort: req.socket.remotePort ?? 0,
      host: hostHeader.replace(/:\d+$/, ''), port: local, scheme: 'http',
      httpVersion: Number(req.httpVersion) || 1.1,
    };
    const path = rawUri.split('?')[0]!;
    const match = this.router.match(client.method, hostHeader, path);
    const ctx = match ? new RequestContext(client, match.route, match.route.service, match.strippedPath, match.uriCaptures) : undefined;
    if (!match || !ctx) {
      this.sendKongError(res, 404, KONG_MESSAGES.noRoute, undefined, req);
      return;
    }
    const generation = this.generation;
    const worker = generation.workers[this.nextWorker++ % generation.workers.length]!;
    generation.inFlight[worker.id]!++;
    let pending: { logs: Promise<void> } | undefined;
    try {
      pending = await this.handleRouted(res, ctx, worker, this.pluginsFor(match.route));
    } finally {
      const finish = () => {
        generation.inFlight[worker.id]!--;
        generation.exitIdleWorkers();
      };
      if (pending) void pending.logs.finally(finish);
      else finish();
    }
  }

  /** Plugins, proxy, Kong's loggers; returns the log phases still to run, if any. */
  private async handleRouted(res: ServerResponse, ctx: RequestContext, worker: KongWorker,
    plugins: ActivePlugin[]): Promise<{ logs: Promise<void> } | undefined> {
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
      this.sendKongError(res, 500, KONG_MESSAGES.unexpected, ctx);
    } else if (ctx.exit) {
      this.sendExit(res, ctx);
    } else {
      const responsePlugins = plugins.filter((ap) => ap.plugin.phases.includes('response'));
      const buffered = ctx.upstream.buffered || responsePlugins.length > 0;
      await this.upstream.proxy(res, ctx, buffered ? async () => {
        for (const ap of responsePlugins) {
          ctx.phase = 'response';
          const r = await this.runPhase(worker, ap, 'response', scopeFor(ap, 'response'));
          if (r === 'error') {
            this.sendKongError(res, 500, KONG_MESSAGES.unexpected, ctx);
            return 'sent';
          }
          if (ctx.exit) { this.sendExit(res, ctx); return 'sent'; }
        }
        return 'continue';
      } : undefined);
    }

    // Kong's own loggers see the serializer now; external log phases run afterwards in a timer.
    const serialized = serializeForLog(ctx, this.env);
    this.opts.onRequestLog?.(serialized);
    const logs = plugins.filter((ap) => ap.plugin.phases.includes('log'));
    if (!logs.length) return undefined;
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
    void p.finally(() => this.pendingLogs.delete(p));
    return { logs: p };
  }

  /** One plugin phase. 'error' means Kong would answer 500 (Lua error or failed StartInstance). */
  private async runPhase(worker: KongWorker, ap: ActivePlugin, phase: Phase, scope: CallScope): Promise<'ok' | 'error'> {
    try {
      const r = await this.runner.handleEvent(worker, ap.plugin, ap.confs[worker.id]!, phase, scope);
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
}

/** Kong's env vault: `{vault://env/openai-api-key}` reads $OPENAI_API_KEY (Kong resolves it, not the plugin). */
export function resolveEnvVault(reference: string): string | undefined {
  const m = /^\{vault:\/\/env\/([A-Za-z0-9_-]+)\}$/.exec(reference);
  return m ? process.env[m[1]!.toUpperCase().replace(/-/g, '_')] : undefined;
}
