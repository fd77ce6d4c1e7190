// Wiring: a HardenedServer behind an RpcListener on `<kongPrefix>/<sockName>`, the dump commands, and
// the process-level guards. main.ts turns the command line into calls to these.
import fs = require('node:fs');
import path = require('node:path');
import { encode } from '@msgpack/msgpack';
import { HardenedServer } from './hardened-server';
import { RpcListener } from './rpc-listener';
import { errorStack, type Logger } from './logger';
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
  /** Stops listening, drops connections, unlinks the socket, stops the timers. Synchronous. */
  close(): void;
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
  return {
    socketPath,
    server,
    listener,
    close(): void {
      if (closed) return;
      closed = true;
      listener.close();
      server.close();
    },
  };
}

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

/** SIGTERM / SIGINT: stop listening, unlink the socket, exit 0. */
export function installSignalHandlers(running: RunningPluginServer, logger: Logger): void {
  const stop = (signal: NodeJS.Signals): void => {
    logger.info(`${signal} received, closing ${running.socketPath} and exiting`);
    try {
      running.close();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
