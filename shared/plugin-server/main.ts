#!/usr/bin/env node
// ai-gateway-pluginserver: a drop-in replacement for kong-pdk 0.6.0's kong-js-pluginserver (same command
// line, see cli.ts) with the fixes of docs/kong-plugin-protocol.md §5 (see hardened-server.ts, pdk-event.ts,
// rpc-listener.ts, msgpack-framer.ts).
//
//   node dist/shared/plugin-server/main.js -d <plugins dir> --kong-prefix <dir> --sock-name <name>.sock
//   node dist/shared/plugin-server/main.js -d <plugins dir> --dump-all-plugins
//
// Exit codes: 0 after SIGTERM/SIGINT or a successful dump, 1 on a startup or dump failure, 2 on a bad
// command line.
import { installStdoutGuard, writeToRealStdout } from './stdout-guard';
import { CliError, USAGE, parseCli, type CliOptions } from './cli';
import { createLogger, errorMessage, errorStack, type Logger } from './logger';
import {
  dumpAllPlugins,
  dumpPluginInfo,
  installProcessGuards,
  installSignalHandlers,
  loadServer,
  startPluginServer,
} from './plugin-server';

export { parseCli, type CliOptions } from './cli';
export { createLogger, type Logger, type LogLevel } from './logger';
export {
  startPluginServer,
  loadServer,
  dumpAllPlugins,
  dumpPluginInfo,
  allPluginInfo,
  type PluginServerOptions,
  type RunningPluginServer,
} from './plugin-server';
export { HardenedServer, RPC_METHODS, type ServerStatus, type ServerCounters } from './hardened-server';

function packageVersion(): string {
  try {
    const pkg: { version?: unknown } = require('../../../package.json');
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function runDump(opts: CliOptions, logger: Logger): Promise<number> {
  // Plugin code is loaded here, after main() installed the stdout guard.
  const server = loadServer({ pluginsDirectory: opts.pluginsDirectory, logger });
  server.close();
  if (opts.mode.kind === 'dump-one') {
    const name = opts.mode.pluginName;
    if (!server.getPlugins().has(name)) {
      logger.error(`--dump-plugin-info: plugin ${name} is not loaded from ${opts.pluginsDirectory}`);
      return 1;
    }
    await writeToRealStdout(await dumpPluginInfo(server, name));
  } else {
    await writeToRealStdout(await dumpAllPlugins(server));
  }
  return 0;
}

async function runServer(opts: CliOptions, logger: Logger): Promise<void> {
  installProcessGuards(logger);
  const running = await startPluginServer({
    pluginsDirectory: opts.pluginsDirectory,
    kongPrefix: opts.kongPrefix,
    sockName: opts.sockName,
    logger,
    eventTtlSeconds: opts.eventTtlSeconds,
    instanceIdleTtlSeconds: opts.instanceIdleTtlSeconds,
  });
  installSignalHandlers(running, logger, opts.drainTimeoutSeconds * 1000);
}

/**
 * Runs the command line `argv` (without node and script). Resolves with an exit code for the commands
 * that end (dumps, help, errors), or undefined once the server is listening (it then runs until a
 * signal). Never writes anything but dump output to stdout.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number | undefined> {
  installStdoutGuard();
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`error: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (opts.mode.kind === 'help') {
    process.stderr.write(USAGE);
    return 0;
  }
  if (opts.mode.kind === 'version') {
    await writeToRealStdout(`${packageVersion()}\n`);
    return 0;
  }
  const logger = createLogger({ level: opts.logLevel });
  try {
    if (opts.mode.kind === 'serve') {
      await runServer(opts, logger);
      return undefined;
    }
    return await runDump(opts, logger);
  } catch (err) {
    logger.error(`${opts.mode.kind === 'serve' ? 'cannot start the plugin server' : 'dump failed'}: ${errorStack(err)}`);
    return 1;
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      // Dumps exit explicitly: plugin code may have left timers or handles that would keep us alive.
      if (code !== undefined) process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`fatal: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
