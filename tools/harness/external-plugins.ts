// Kong's runtime side of external plugins (kong/runloop/plugin_servers/{plugin,rpc/mp_rpc}.lua, 3.9):
// per-worker instance ids keyed by plugin id and reused while __seq__ is unchanged, StartInstance with
// the JSON config string, the HandleEvent/Step* bridge loop keeping only first return values, no reply
// after exit/error, "no plugin instance" resetting the plugin in every worker, and fail-open on
// transport errors.
import { RpcPool, RpcReplyError, RpcTransportError } from './rpc-connection';
import { callPdk, LuaError, stepMethodFor, type CallScope, type PdkEnv } from './pdk-emulator';
import { luaArgs, toWire } from './lua-values';
import type { PluginServerDef } from './plugin-server-process';
import type { Phase } from './request-context';

export interface RegisteredPlugin {
  name: string;
  priority: number;
  version: string;
  phases: string[];
  /** Kong fields of `config` (module.Schema). */
  configFields: unknown[];
  server: PluginServerDef;
}

/** A configured plugin as Kong hands it to the handler: the filled config plus Kong's extra keys. */
export interface PluginConf {
  pluginId: string;
  seq: number;
  /** The exact JSON string sent as StartInstance Config. */
  configJson: string;
}

export interface Violation {
  plugin: string;
  message: string;
}

interface InstanceInfo {
  /** undefined while a StartInstance for it is under way (other requests wait, as in Kong). */
  id: number | undefined;
  seq: number;
  pluginName: string;
  pool: RpcPool;
}

const CLAIM_POLL_MS = 100;
const CLAIM_WAIT_STEPS = 100;

/** Thrown when StartInstance fails: Kong raises error(err), the request gets a 500. */
export class StartInstanceError extends Error {}

export type EventResult =
  | { kind: 'ret' }
  | { kind: 'ended' }                   // exit/error: Kong stops the conversation
  | { kind: 'lua-error'; message: string }
  | { kind: 'fail-open'; message: string };

export class KongWorker {
  private readonly pools = new Map<string, RpcPool>();
  private readonly msgIds = new Map<string, number>();
  readonly instances = new Map<string, InstanceInfo>();
  private readonly serverPids = new Map<RpcPool, number>();
  /** The workers of this worker's generation (itself included): reset_instance reaches all of them. */
  peers: readonly KongWorker[] = [this];

  constructor(readonly id: number, private readonly rpcTimeoutMs: number) {}

  pool(def: PluginServerDef): RpcPool {
    let p = this.pools.get(def.socketPath);
    if (!p) {
      p = new RpcPool(def.socketPath, this.rpcTimeoutMs);
      this.pools.set(def.socketPath, p);
    }
    return p;
  }

  /** Rpc:call with the per-worker, per-plugin message id counter. */
  call(plugin: RegisteredPlugin, method: string, param: unknown): Promise<unknown> {
    const id = (this.msgIds.get(plugin.name) ?? 0) + 1;
    this.msgIds.set(plugin.name, id);
    const pool = this.pool(plugin.server);
    return pool.call(id, method, [param], (label, args) => {
      if (label !== 'serverPid') return;
      const pid = Number(args);
      const prev = this.serverPids.get(pool);
      if (prev !== undefined && prev !== pid) {
        for (const [k, inst] of this.instances) if (inst.pool === pool) this.instances.delete(k);
      }
      this.serverPids.set(pool, pid);
    });
  }

  resetPlugin(pluginName: string): void {
    for (const [k, inst] of this.instances) if (inst.pluginName === pluginName) this.instances.delete(k);
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
  }
}

/** Per plugin: phases run (HandleEvent) and PDK calls made (one Step round trip each). */
export interface PluginCallStats {
  events: number;
  pdkCalls: number;
}

export class ExternalPluginRunner {
  readonly violations: Violation[] = [];
  readonly stats = new Map<string, PluginCallStats>();

  constructor(private readonly env: PdkEnv, private readonly log: (level: string, msg: string) => void) {}

  /**
   * get_instance_id (kong/runloop/plugin_servers/plugin.lua): the worker's instance of this plugin
   * config, started on first use or when its __seq__ changed. A request that finds a start under way
   * polls every 0.1 s, for at most 10 s, as Kong does.
   */
  private async instanceId(worker: KongWorker, plugin: RegisteredPlugin, conf: PluginConf): Promise<number> {
    let info = worker.instances.get(conf.pluginId);
    for (let waits = 0; info && info.id === undefined; waits++) {
      if (waits >= CLAIM_WAIT_STEPS) {
        worker.instances.delete(conf.pluginId);
        throw new StartInstanceError(`Could not claim instance_id for ${plugin.name} (key: ${conf.pluginId})`);
      }
      await new Promise((r) => setTimeout(r, CLAIM_POLL_MS));
      info = worker.instances.get(conf.pluginId);
    }
    if (info?.id !== undefined && info.seq === conf.seq) return info.id;
    const old = info?.id;
    const claim: InstanceInfo = info ?? { id: undefined, seq: conf.seq, pluginName: plugin.name, pool: worker.pool(plugin.server) };
    claim.id = undefined;
    worker.instances.set(conf.pluginId, claim);
    const started = await worker.call(plugin, 'plugin.StartInstance', { Name: plugin.name, Config: conf.configJson })
      .catch((e: Error) => {
        worker.instances.delete(conf.pluginId);
        this.log('error', `[${plugin.name}] starting instance: ${e.message}`);
        throw new StartInstanceError(e.message);
      });
    const id = (started as { Id?: unknown } | null)?.Id;
    if (typeof id !== 'number') {
      worker.instances.delete(conf.pluginId);
      throw new StartInstanceError(`StartInstance returned no Id: ${JSON.stringify(started)}`);
    }
    Object.assign(claim, { id, seq: conf.seq, pool: worker.pool(plugin.server) });
    if (old !== undefined) {
      // Kong closes the previous instance and does not care whether that fails.
      worker.call(plugin, 'plugin.CloseInstance', old).catch(() => {});
    }
    return id;
  }

  /** Rpc:handle_event: runs one phase of one plugin for a request. */
  async handleEvent(worker: KongWorker, plugin: RegisteredPlugin, conf: PluginConf, phase: Phase,
    scope: CallScope, retries = 0): Promise<EventResult> {
    try {
      const iid = await this.instanceId(worker, plugin, conf);
      return await this.bridgeLoop(worker, plugin, iid, phase, scope);
    } catch (e) {
      if (e instanceof StartInstanceError || e instanceof LuaError) throw e;
      const msg = (e as Error).message;
      if (msg.toLowerCase().includes('no plugin instance') && retries < 5) {
        // reset_instance: this worker now, every other worker through the worker event.
        for (const w of worker.peers) w.resetPlugin(plugin.name);
        this.log('warn', `[${plugin.name}] ${msg}`);
        return this.handleEvent(worker, plugin, conf, phase, scope, retries + 1);
      }
      this.log('error', `[${plugin.name}] ${msg}`);
      return { kind: 'fail-open', message: msg };
    }
  }

  private async bridgeLoop(worker: KongWorker, plugin: RegisteredPlugin, iid: number, phase: Phase,
    scope: CallScope): Promise<EventResult> {
    const stats = this.stats.get(plugin.name) ?? { events: 0, pdkCalls: 0 };
    this.stats.set(plugin.name, stats);
    stats.events++;
    let step = await worker.call(plugin, 'plugin.HandleEvent', { InstanceId: iid, EventName: phase }) as StepIn;
    const eventId = step?.EventId;
    for (;;) {
      if (step?.Data === 'ret') return { kind: 'ret' };
      const data = step?.Data;
      if (typeof data !== 'object' || data === null || typeof data.Method !== 'string') {
        throw new RpcTransportError(`malformed step from plugin server: ${JSON.stringify(step)}`);
      }
      const method = data.Method;
      stats.pdkCalls++;
      const { args, hole } = luaArgs(data.Args);
      if (hole) {
        this.violation(plugin.name, `${method} called with a nil hole in its arguments: Lua drops everything after it`);
      }
      let value: unknown;
      try {
        const out = callPdk(scope, this.env, method, args);
        if (out.kind === 'unknown') {
          this.log('error', `[${plugin.name}] could not find pdk method: ${method}`);
          this.violation(plugin.name, `unknown PDK method ${method}`);
          value = null;
        } else {
          value = out.value;
        }
      } catch (e) {
        if (!(e instanceof LuaError)) throw e;
        // The PDK promise in JS never resolves and the event is abandoned.
        this.log('error', `[${plugin.name}] ${method}: ${e.message}`);
        return { kind: 'lua-error', message: `${method}: ${e.message}` };
      }
      if (scope.ended) return { kind: 'ended' };
      const reply: Record<string, unknown> = { EventId: eventId };
      if (value !== null && value !== undefined) reply.Data = toWire(value);
      step = await worker.call(plugin, stepMethodFor(method), reply) as StepIn;
    }
  }

  violation(plugin: string, message: string): void {
    this.violations.push({ plugin, message });
    this.log('error', `[harness] protocol violation by ${plugin}: ${message}`);
  }
}

type StepIn = { EventId?: number; Data?: 'ret' | { Method?: unknown; Args?: unknown } } | null;

export { RpcReplyError };
