// Wiring: a HardenedServer behind an RpcListener on `<kongPrefix>/<sockName>`, the dump commands, and
// the process-level guards. main.ts turns the command line into calls to these.
import fs = require('node:fs');
import path = require('node:path');
import { encode } from '@msgpack/msgpack';
import { HardenedServer } from './hardened-server';
import { RpcListener } from './rpc-listener';
import { errorStack, type Logger } from './logger';
import { registeredDrainables } from './drain';
import type { PluginInfo } from './kong-pdk';

export interface PluginServerOptions {
  pluginsDirectory: string;
  kongPrefix: string;
  sockName: string;
  logger: Logger;
  eventTtlSeconds?: number;
  instanceIdleTtlSeconds?: number;
  maxMessageBytes?: number;
}

export interface RunningPluginServer {
  readonly socketPath: string;
  readonly server: HardenedServer;
  readonly listener: RpcListener;
  /** Stops listening, drops connections, unlinks the socket (if still ours), stops the timers. */
  close(): void;
  /**
   * Stops accepting connections, then waits until no event is live and no registered drainable (the
   * relay) is busy, or `timeoutMs` has passed; then closes everything. Resolves with what was still in
   * flight when it gave up (0 after a clean drain).
   */
  drain(timeoutMs: number): Promise<number>;
}

/** Loads the plugins (kong-pdk's Server constructor does) without listening, for the dump commands. */
export function loadServer(options: Pick<PluginServerOptions, 'pluginsDirectory' | 'logger' | 'eventTtlSeconds' | 'instanceIdleTtlSeconds'>): HardenedServer {
  return new HardenedServer({
    pluginDir: path.resolve(options.pluginsDirectory),
    logger: options.logger,
    eventTtlSeconds: options.eventTtlSeconds,
    instanceIdleTtlSeconds: options.instanceIdleTtlSeconds,
  });
}

/** Loads the plugins, creates the prefix directory if needed, and listens. */
export async function startPluginServer(options: PluginServerOptions): Promise<RunningPluginServer> {
  const { logger } = options;
  const socketPath = path.join(options.kongPrefix, options.sockName);
  const server = loadServer(options);
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  const listener = new RpcListener({ socketPath, dispatcher: server, logger, maxMessageBytes: options.maxMessageBytes });
  try {
    await listener.listen();
  } catch (err) {
    server.close();
    throw err;
  }
  server.startTimers();
  logger.info(
    `listening on ${socketPath} (pid ${process.pid}; plugins: ${[...server.getPlugins().keys()].join(', ') || 'none'}; ` +
    `event TTL ${server.eventTtlSeconds} s; instance idle TTL ${server.instanceIdleTtlSeconds || 'off'}${server.instanceIdleTtlSeconds ? ' s' : ''})`);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    listener.close();
    server.close();
  };
  const inFlight = (): { total: number; parts: string[] } => {
    const parts: string[] = [];
    // An event Kong stopped stepping (a Lua error on its side) would never finish: only events with
    // recent activity count; the event TTL sweep removes the others.
    const now = Date.now();
    let total = 0;
    for (const ev of server.events.values()) if (now - ev.lastActivity < ACTIVE_EVENT_MS) total++;
    if (total > 0) parts.push(`${total} live events`);
    for (const d of registeredDrainables()) {
      const n = d.busy();
      if (n > 0) parts.push(`${n} ${d.name}`);
      total += n;
    }
    return { total, parts };
  };
  return {
    socketPath,
    server,
    listener,
    close,
    async drain(timeoutMs: number): Promise<number> {
      listener.stopAccepting();
      const until = Date.now() + timeoutMs;
      let busy = inFlight();
      if (busy.total > 0) logger.info(`draining: ${busy.parts.join(', ')} (at most ${Math.round(timeoutMs / 1000)} s)`);
      while (busy.total > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
        busy = inFlight();
      }
      if (busy.total > 0) logger.warn(`drain timeout: giving up on ${busy.parts.join(', ')}`);
      await Promise.allSettled(registeredDrainables().map((d) => d.close()));
      close();
      return busy.total;
    },
  };
}

const DRAIN_POLL_MS = 50;
const ACTIVE_EVENT_MS = 5000;

/** The plugin infos Kong's query command expects, in directory order. */
export async function allPluginInfo(server: HardenedServer): Promise<PluginInfo[]> {
  const infos: PluginInfo[] = [];
  for (const name of server.getPlugins().keys()) infos.push(await server.GetPluginInfo(name));
  return infos;
}

/** `--dump-all-plugins` output: a JSON array and a newline, as kong-js-pluginserver prints it. */
export async function dumpAllPlugins(server: HardenedServer): Promise<string> {
  return `${JSON.stringify(await allPluginInfo(server))}\n`;
}

/** `--dump-plugin-info <name>` output: msgpack, as kong-js-pluginserver prints it. */
export async function dumpPluginInfo(server: HardenedServer, name: string): Promise<Uint8Array> {
  return encode(await server.GetPluginInfo(name));
}

/**
 * Last line of defence for a long-running server: an exception or rejection nobody handled (typically
 * from plugin code running outside a phase) is logged, and the process keeps serving.
 */
export function installProcessGuards(logger: Logger): void {
  process.on('uncaughtException', (err, origin) => {
    logger.error(`uncaught exception (${origin}), continuing: ${errorStack(err)}`);
  });
  process.on('unhandledRejection', (reason) => {
    logger.error(`unhandled promise rejection, continuing: ${errorStack(reason)}`);
  });
}

/**
 * SIGTERM / SIGINT: stop accepting, finish what is in flight (at most `drainTimeoutMs`), exit 0. A
 * second signal exits at once. The socket path is unlinked only if no newer server took it over.
 */
export function installSignalHandlers(running: RunningPluginServer, logger: Logger, drainTimeoutMs: number): void {
  let draining = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (draining) {
      logger.info(`${signal} received again, exiting now`);
      process.exit(0);
    }
    draining = true;
    const handover = running.listener.ownsSocketPath() ? '' : ' (a newer server now listens there)';
    logger.info(`${signal} received, no longer accepting on ${running.socketPath}${handover}; exiting once idle`);
    running.drain(drainTimeoutMs).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`drain failed: ${errorStack(err)}`);
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
