// kong-pdk's Server with the fixes this project needs (docs/kong-plugin-protocol.md §5). Plugin loading,
// GetPluginInfo, InstanceStatus and the Module/Instance bookkeeping are kong-pdk's; replaced are:
//  - loadPlugins: a directory entry that cannot be resolved no longer aborts startup, load errors are
//    logged at error level, *.d.ts files are skipped, ts-node is registered only if TypeScript is present;
//  - instance expiry: kong-pdk's 60 ms timer (60 s TTL) is never started; our own sweep drops instances
//    idle for longer than instanceIdleTtlSeconds (0 = never);
//  - StartInstance: random-start instance ids, validated input, constructor errors reported and logged;
//  - HandleEvent / Step*: PluginEvent instead of PipePair (exit ends the event, fail-closed exceptions,
//    abandoned-event TTL, random-start event ids);
//  - GetStatus: actually lists instances, and reports live event/instance counts and counters;
//  - the RPC surface: only the methods below can be called over the socket.
import fs = require('node:fs');
import path = require('node:path');
import {
  KongModuleClass,
  KongPdk,
  KongServer,
  ensureTypeScriptSupport,
  type KongInstance,
  type KongModule,
  type PluginInfo,
} from './kong-pdk';
import { IdAllocator } from './ids';
import { errorMessage, errorStack, type Logger } from './logger';
import { ENCODED_DATA, type EventReply } from './rpc-codec';
import { MSG_RET, PluginEvent, type CloseReason, type EventHost, type EventOutput } from './pdk-event';

/** The RPC methods Kong (and tests) may call as `plugin.<Method>`. */
export const RPC_METHODS: ReadonlySet<string> = new Set([
  'GetStatus',
  'GetPluginInfo',
  'StartInstance',
  'InstanceStatus',
  'CloseInstance',
  'HandleEvent',
  'Step',
  'StepError',
  'StepMultiMap',
  'StepCredential',
  'StepConsumer',
  'StepRoute',
  'StepService',
  'StepPlugin',
  'StepMemoryStats',
]);

const VALID_EXTENSIONS: ReadonlySet<string> = new Set(['.js', '.cjs', '.ts', '.node', '']);
const TS_FILE = /\.(ts|tsx|cts|mts)$/;

export interface HardenedServerOptions {
  pluginDir: string;
  logger: Logger;
  /** Abandon events with no HandleEvent/Step activity for this long (seconds). Default 75. */
  eventTtlSeconds?: number;
  /** Drop instances unused for this long (seconds); 0 = never. Default 3600. */
  instanceIdleTtlSeconds?: number;
}

export interface StartInstanceResult {
  Name: string;
  Id: number;
  Config: unknown;
  StartTime: number;
}

export interface InstanceSummary {
  Name: string;
  Id: number;
  StartTime: number;
  LastUsedTime: number;
}

export interface ServerCounters {
  ProtocolViolations: number;
  AbandonedEvents: number;
  PhaseErrors: number;
  ExpiredInstances: number;
  FailedStarts: number;
}

function processUsage(): Omit<ServerStatus['Process'], 'Collected'> {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { CpuUserMicros: cpu.user, CpuSystemMicros: cpu.system, RssBytes: mem.rss, HeapUsedBytes: mem.heapUsed };
}

export interface ServerStatus {
  Pid: number;
  Plugins: Record<string, {
    Name: string;
    Modtime: number;
    LoadTime: number;
    Instances: InstanceSummary[];
    LastStartInstance: number;
    LastCloseInstance: number;
  }>;
  /** Live events (HandleEvent received, neither "ret" nor exit handed back yet, not abandoned). */
  Events: number;
  /** Live events per phase. */
  EventsByPhase: Record<string, number>;
  /** The process's own accounting (benchmarks read it): CPU microseconds since start, memory in bytes. */
  Process: { CpuUserMicros: number; CpuSystemMicros: number; RssBytes: number; HeapUsedBytes: number; Collected: boolean };
  /** Started instances not closed or expired. */
  Instances: number;
  Counters: ServerCounters;
  EventTtl: number;
  InstanceIdleTtl: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short, value-free description of a parameter for error messages. */
function describe(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (v === null) return 'nil';
  return `<${typeof v}>`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export class HardenedServer extends KongServer implements EventHost {
  declare logger: Logger;
  declare events: Map<number, PluginEvent>;

  readonly eventTtlSeconds: number;
  readonly instanceIdleTtlSeconds: number;
  private readonly instanceIds: IdAllocator;
  private readonly eventIds: IdAllocator;
  private readonly counters: ServerCounters = {
    ProtocolViolations: 0,
    AbandonedEvents: 0,
    PhaseErrors: 0,
    ExpiredInstances: 0,
    FailedStarts: 0,
  };
  private readonly holesReported = new Set<string>();
  private eventSweep: NodeJS.Timeout | undefined;
  private instanceSweep: NodeJS.Timeout | undefined;

  constructor(options: HardenedServerOptions) {
    // Loads the plugins (through our loadPlugins below).
    super(options.pluginDir, options.logger);
    clearInterval(this.clearExpiredPluginsTimer);
    this.clearExpiredPluginsTimer = undefined;
    this.eventTtlSeconds = options.eventTtlSeconds ?? 75;
    this.instanceIdleTtlSeconds = options.instanceIdleTtlSeconds ?? 3600;
    const instances = this.instances;
    const events = this.events;
    this.instanceIds = new IdAllocator((id) => instances.has(id));
    this.eventIds = new IdAllocator((id) => events.has(id));
  }

  /** kong-pdk starts its expiry timer from its constructor; ours is started by startTimers(). */
  override clearExpiredPlugins(): undefined {
    return undefined;
  }

  /** Starts the event TTL and instance idle sweeps (serve mode). Timers are unref'd. */
  startTimers(): void {
    this.stopTimers();
    const eventEvery = clamp((this.eventTtlSeconds * 1000) / 4, 50, 5000);
    this.eventSweep = setInterval(() => this.sweepEvents(), eventEvery);
    this.eventSweep.unref();
    if (this.instanceIdleTtlSeconds > 0) {
      const instanceEvery = clamp((this.instanceIdleTtlSeconds * 1000) / 2, 50, 60_000);
      this.instanceSweep = setInterval(() => this.sweepInstances(), instanceEvery);
      this.instanceSweep.unref();
    }
  }

  stopTimers(): void {
    clearInterval(this.eventSweep);
    clearInterval(this.instanceSweep);
    this.eventSweep = undefined;
    this.instanceSweep = undefined;
  }

  override close(): void {
    clearInterval(this.clearExpiredPluginsTimer);
    this.stopTimers();
  }

  // --- plugin loading ------------------------------------------------------------------------------

  override loadPlugins(): void {
    // Runs inside kong-pdk's constructor: only base-class fields exist yet.
    const dir = this.pluginDir;
    if (!dir) throw new KongServer.Error('plugin server is not initialized: no plugins directory');
    const entries = fs.readdirSync(dir).filter((f) => !f.startsWith('.') && !f.includes('node_modules'));
    const hasTypeScript = entries.some((f) =>
      (TS_FILE.test(f) && !f.endsWith('.d.ts')) || fs.existsSync(path.join(dir, f, 'index.ts')));
    if (hasTypeScript) ensureTypeScriptSupport(this.logger);

    for (const file of entries) {
      let filePath: string;
      try {
        filePath = require.resolve(path.join(dir, file));
      } catch {
        this.logger.warn(`skipping ${path.join(dir, file)}: not a loadable module`);
        continue;
      }
      const { name, ext } = path.parse(filePath);
      if (!name || !VALID_EXTENSIONS.has(ext) || filePath.endsWith('.d.ts')) continue;
      const existing = this.plugins.get(name.toLowerCase()) ?? this.plugins.get(name);
      if (existing) {
        this.logger.warn(`plugin "${name}" is already loaded from ${existing.path}, not loading ${filePath}`);
        continue;
      }
      try {
        const mod: KongModule = new KongModuleClass(name, filePath);
        const clash = this.plugins.get(mod.name);
        if (clash) {
          this.logger.warn(`plugin "${mod.name}" is already loaded from ${clash.path}, not loading ${filePath}`);
          continue;
        }
        this.plugins.set(mod.name, mod);
        this.logger.debug(`loaded plugin "${mod.name}" from ${filePath} (phases: ${mod.getPhases().join(', ')})`);
      } catch (err) {
        this.logger.error(`error loading plugin "${name}" from ${filePath}: ${errorStack(err)}`);
      }
    }
  }

  // --- RPC dispatch ----------------------------------------------------------------------------------

  hasRpcMethod(name: string): boolean {
    return RPC_METHODS.has(name);
  }

  /** Calls RPC method `name` (one of RPC_METHODS) with Kong's positional parameters. */
  callRpc(name: string, params: readonly unknown[]): Promise<unknown> {
    const p = params[0];
    switch (name) {
      case 'GetStatus': return this.GetStatus(params[0]);
      case 'GetPluginInfo': return this.GetPluginInfo(p);
      case 'StartInstance': return this.StartInstance(p);
      case 'InstanceStatus': return this.InstanceStatus(p);
      case 'CloseInstance': return this.CloseInstance(p);
      case 'HandleEvent': return this.HandleEvent(p);
      case 'StepError': return this.step(p, true);
      default:
        if (RPC_METHODS.has(name) && name.startsWith('Step')) return this.step(p, false);
        return Promise.reject(new KongServer.Error(`method ${name} not implemented`));
    }
  }

  // --- RPC methods -----------------------------------------------------------------------------------

  /**
   * `{Gc: true}` collects garbage first when node runs with --expose-gc (benchmarks measure live memory
   * that way); Kong never calls GetStatus.
   */
  override async GetStatus(opts?: unknown): Promise<ServerStatus> {
    const gc = (globalThis as { gc?: () => void }).gc;
    const collect = isRecord(opts) && opts.Gc === true && gc !== undefined;
    if (collect) gc();
    const plugins: ServerStatus['Plugins'] = Object.create(null) as ServerStatus['Plugins'];
    for (const [name, plugin] of this.plugins) {
      const instances: InstanceSummary[] = [];
      for (const [id, ins] of this.instances) {
        if (ins.name === name) {
          instances.push({ Name: name, Id: id, StartTime: ins.getStartTime(), LastUsedTime: ins.getLastUsedTime() });
        }
      }
      plugins[name] = {
        Name: name,
        Modtime: plugin.getMTime(),
        LoadTime: plugin.getLoadTime(),
        Instances: instances,
        LastStartInstance: plugin.getLastStartInstanceTime(),
        LastCloseInstance: plugin.getLastCloseInstanceTime(),
      };
    }
    const byPhase: Record<string, number> = {};
    for (const ev of this.events.values()) byPhase[ev.phase] = (byPhase[ev.phase] ?? 0) + 1;
    return {
      Pid: process.pid,
      Plugins: plugins,
      Events: this.events.size,
      EventsByPhase: byPhase,
      Process: { ...processUsage(), Collected: collect },
      Instances: this.instances.size,
      Counters: { ...this.counters },
      EventTtl: this.eventTtlSeconds,
      InstanceIdleTtl: this.instanceIdleTtlSeconds,
    };
  }

  override async GetPluginInfo(name: unknown): Promise<PluginInfo> {
    if (typeof name !== 'string' || !this.plugins.has(name)) {
      throw new KongServer.Error(`plugin ${typeof name === 'string' ? name : describe(name)} not initialized`);
    }
    return super.GetPluginInfo(name);
  }

  override async StartInstance(cfg: unknown): Promise<StartInstanceResult> {
    if (!isRecord(cfg) || typeof cfg.Name !== 'string') {
      throw new KongServer.Error('StartInstance expects {Name: string, Config: JSON string}');
    }
    const name = cfg.Name;
    const plugin = this.plugins.get(name);
    if (!plugin) throw new KongServer.Error(`plugin ${name} not initialized`);

    let config: unknown;
    if (typeof cfg.Config === 'string') {
      try {
        config = JSON.parse(cfg.Config);
      } catch {
        this.counters.FailedStarts++;
        this.logger.error(`cannot start an instance of ${name}: Config is not valid JSON`);
        throw new KongServer.Error(`cannot start an instance of ${name}: Config is not valid JSON`);
      }
    } else if (isRecord(cfg.Config)) {
      config = cfg.Config;
    } else if (cfg.Config === undefined || cfg.Config === null) {
      config = {};
    } else {
      throw new KongServer.Error(`cannot start an instance of ${name}: Config must be a JSON string`);
    }

    let instance: KongInstance;
    try {
      instance = plugin.new(config);
    } catch (err) {
      this.counters.FailedStarts++;
      this.logger.error(`cannot start an instance of ${name}: its constructor threw: ${errorStack(err)}`);
      throw new KongServer.Error(`cannot start an instance of ${name}: ${errorMessage(err)}`);
    }
    const id = this.instanceIds.allocate();
    this.instances.set(id, instance);
    this.logger.info(`instance #${id} of ${name} started`);
    return { Name: name, Id: id, Config: config, StartTime: instance.getStartTime() };
  }

  override async InstanceStatus(iid: unknown): Promise<unknown> {
    if (typeof iid !== 'number') throw new KongServer.Error(`no plugin instance #${describe(iid)}`);
    return super.InstanceStatus(iid);
  }

  override async CloseInstance(iid: unknown): Promise<unknown> {
    const ins = typeof iid === 'number' ? this.instances.get(iid) : undefined;
    if (ins === undefined) {
      // Kong expects the error to start with "no plugin instance".
      throw new KongServer.Error(`no plugin instance #${describe(iid)}`);
    }
    ins.close();
    this.instances.delete(iid as number);
    this.logger.info(`instance #${describe(iid)} of ${ins.name} closed`);
    return { Name: ins.getName(), Id: iid, Config: ins.getConfig() };
  }

  override async HandleEvent(event: unknown): Promise<EventReply> {
    if (!isRecord(event)) throw new KongServer.Error('HandleEvent expects {InstanceId, EventName}');
    const iid = event.InstanceId;
    const ins = typeof iid === 'number' ? this.instances.get(iid) : undefined;
    if (ins === undefined) {
      // Kong matches "no plugin instance" and restarts the instance.
      throw new KongServer.Error(`no plugin instance #${describe(iid)}`);
    }
    const phase = event.EventName;
    if (typeof phase !== 'string' || phase === '') throw new KongServer.Error('HandleEvent: EventName must be a phase name');
    ins.resetExpireTs();

    const eid = this.eventIds.allocate();
    const ev = new PluginEvent(eid, iid as number, ins.name, phase, this);
    this.events.set(eid, ev);
    ev.start(ins, new KongPdk(ev.pipe).kong);
    const out = await ev.next();
    ins.resetExpireTs();
    return this.eventReply(ev, out);
  }

  override async step(data: unknown, isError: boolean): Promise<EventReply> {
    if (!isRecord(data)) throw new KongServer.Error('Step expects {EventId, Data}');
    const eid = data.EventId;
    const ev = typeof eid === 'number' ? this.events.get(eid) : undefined;
    if (ev === undefined) throw new KongServer.Error(`event id ${describe(eid)} not found`);
    if (!ev.supply(data.Data, isError)) {
      throw new KongServer.Error(`event id ${ev.id} is not waiting for a PDK result`);
    }
    const out = await ev.next();
    return this.eventReply(ev, out);
  }

  private eventReply(ev: PluginEvent, out: EventOutput): EventReply {
    switch (out.kind) {
      case 'ret':
        return { Data: MSG_RET, EventId: ev.id };
      case 'call':
        return { Data: out.call, EventId: ev.id, [ENCODED_DATA]: out.encoded };
      default:
        throw new KongServer.Error(`event id ${ev.id} was abandoned`);
    }
  }

  // --- EventHost -------------------------------------------------------------------------------------

  eventClosed(event: PluginEvent, reason: CloseReason): void {
    if (this.events.get(event.id) === event) this.events.delete(event.id);
    if (reason === 'abandoned') this.counters.AbandonedEvents++;
  }

  protocolViolation(): void {
    this.counters.ProtocolViolations++;
  }

  phaseError(): void {
    this.counters.PhaseErrors++;
  }

  firstArgumentHole(event: PluginEvent, method: string): boolean {
    const key = `${event.pluginName}\u0000${method}`;
    if (this.holesReported.has(key)) return false;
    if (this.holesReported.size < 1000) this.holesReported.add(key);
    return true;
  }

  // --- sweeps ----------------------------------------------------------------------------------------

  /** Abandons events idle for longer than the event TTL. Returns how many. */
  sweepEvents(nowMs: number = Date.now()): number {
    let n = 0;
    for (const ev of this.events.values()) {
      const idle = ev.idleSeconds(nowMs);
      if (idle > this.eventTtlSeconds) {
        this.logger.warn(
          `event ${ev.id} of plugin ${ev.pluginName} (phase ${ev.phase}, instance #${ev.instanceId}) abandoned: ` +
          `no HandleEvent/Step activity for ${Math.round(idle)} s; removed and its pending PDK call rejected`);
        ev.abandon(idle);
        n++;
      }
    }
    return n;
  }

  /** Drops instances idle for longer than the instance idle TTL. Returns how many. */
  sweepInstances(): number {
    if (this.instanceIdleTtlSeconds <= 0) return 0;
    let n = 0;
    for (const [id, ins] of this.instances) {
      if (ins.isExpired(this.instanceIdleTtlSeconds)) {
        ins.close();
        this.instances.delete(id);
        this.counters.ExpiredInstances++;
        this.logger.info(`instance #${id} of ${ins.name} expired after ${this.instanceIdleTtlSeconds} s idle`);
        n++;
      }
    }
    return n;
  }
}
