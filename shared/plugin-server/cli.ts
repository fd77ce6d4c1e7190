// Command line of the plugin server. It accepts everything kong-js-pluginserver 0.6.0 accepts, with the
// same defaults, so it can replace that binary in `pluginserver_<name>_start_cmd` / `_query_cmd`:
//
//   -d, --plugins-directory <dir>   plugin modules (.js, .cjs, .node, .ts, or directories); required
//   -p, --kong-prefix <prefix>      directory of the socket (default /usr/local/kong; created if missing)
//       --sock-name <name>          socket file name (default js_pluginserver.sock)
//   -v, --verbose                   debug logging (repeatable, as in the original; one is enough)
//       --dump-plugin-info <name>   print that plugin's info as msgpack on stdout and exit
//       --dump-all-plugins          print every plugin's info as a JSON array on stdout and exit
//       --version                   print the version and exit
//
// The original also takes the single-dash long forms (-plugins-directory, -kong-prefix,
// -dump-plugin-info, -dump-all-plugins ...); so does this one, for every long option below.
//
// Options of our own:
//       --event-ttl <seconds>          an event with no HandleEvent/Step activity for this long is
//                                      abandoned: removed, and the plugin's pending PDK call rejected
//                                      (default 75, longer than Kong's 60 s socket timeout)
//       --instance-idle-ttl <seconds>  drop plugin instances unused for this long; Kong restarts them on
//                                      its next request ("no plugin instance"). 0 = never (default 3600)
//       --drain-timeout <seconds>      on SIGTERM, how long to keep serving what is in flight (streams
//                                      through the relay, live events) before exiting (default 30)
//   -h, --help                         print this help and exit
import { parseArgs } from 'node:util';
import type { LogLevel } from './logger';

export const DEFAULT_KONG_PREFIX = '/usr/local/kong';
export const DEFAULT_SOCK_NAME = 'js_pluginserver.sock';
export const DEFAULT_EVENT_TTL_SECONDS = 75;
export const DEFAULT_INSTANCE_IDLE_TTL_SECONDS = 3600;
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;

export const USAGE = `Usage: ai-gateway-pluginserver -d <dir> [options]

  -d, --plugins-directory <dir>   plugin modules directory (required)
  -p, --kong-prefix <prefix>      socket directory (default ${DEFAULT_KONG_PREFIX})
      --sock-name <name>          socket file name (default ${DEFAULT_SOCK_NAME})
  -v, --verbose                   debug logging (method names and sizes, never values)
      --dump-plugin-info <name>   print one plugin's info (msgpack) and exit
      --dump-all-plugins          print all plugins' info (JSON) and exit
      --event-ttl <seconds>       abandon events idle this long (default ${DEFAULT_EVENT_TTL_SECONDS})
      --instance-idle-ttl <s>     drop instances idle this long, 0 = never (default ${DEFAULT_INSTANCE_IDLE_TTL_SECONDS})
      --drain-timeout <seconds>   on SIGTERM, finish in-flight work for at most this long (default ${DEFAULT_DRAIN_TIMEOUT_SECONDS})
      --version                   print the version and exit
  -h, --help                      print this help and exit
`;

export type CliMode =
  | { kind: 'serve' }
  | { kind: 'dump-all' }
  | { kind: 'dump-one'; pluginName: string }
  | { kind: 'help' }
  | { kind: 'version' };

export interface CliOptions {
  mode: CliMode;
  pluginsDirectory: string;
  kongPrefix: string;
  sockName: string;
  verbose: number;
  logLevel: LogLevel;
  eventTtlSeconds: number;
  instanceIdleTtlSeconds: number;
  drainTimeoutSeconds: number;
}

export class CliError extends Error {
  override get name(): string {
    return 'CliError';
  }
}

const OPTIONS = {
  'plugins-directory': { type: 'string', short: 'd' },
  'kong-prefix': { type: 'string', short: 'p' },
  'sock-name': { type: 'string' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  'dump-plugin-info': { type: 'string' },
  'dump-all-plugins': { type: 'boolean' },
  'event-ttl': { type: 'string' },
  'instance-idle-ttl': { type: 'string' },
  'drain-timeout': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;
const LONG_NAMES: ReadonlySet<string> = new Set(Object.keys(OPTIONS));

function takesValue(name: string): boolean {
  return LONG_NAMES.has(name) && OPTIONS[name as OptionName].type === 'string';
}

/**
 * Rewrites the single-dash long forms (`-plugins-directory x`, `-dump-all-plugins`, `-kong-prefix=x`)
 * into `--` forms; values that follow an option are left untouched.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let valueNext = false;
  for (const arg of argv) {
    if (valueNext) {
      out.push(arg);
      valueNext = false;
      continue;
    }
    if (arg === '--') {
      out.push(arg);
      valueNext = false;
      continue;
    }
    let token = arg;
    if (/^-[^-]/.test(arg) && arg.length > 2) {
      const name = arg.slice(1).split('=', 1)[0]!;
      if (LONG_NAMES.has(name)) token = `-${arg}`;
    }
    if (token.startsWith('--')) {
      const body = token.slice(2);
      if (!body.includes('=') && takesValue(body)) valueNext = true;
    } else if (/^-[dp]$/.test(token)) {
      valueNext = true;
    }
    out.push(token);
  }
  return out;
}

function parseSeconds(name: string, raw: string | undefined, fallback: number, allowZero: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new CliError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds`);
  }
  return value;
}

/** Parses the command line (without node and the script path). Throws CliError on bad input. */
export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: normalizeArgv(argv), options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  const verbose = v.verbose?.length ?? 0;
  let mode: CliMode;
  if (v.help) mode = { kind: 'help' };
  else if (v.version) mode = { kind: 'version' };
  else if (v['dump-plugin-info'] !== undefined) mode = { kind: 'dump-one', pluginName: v['dump-plugin-info'] };
  else if (v['dump-all-plugins']) mode = { kind: 'dump-all' };
  else mode = { kind: 'serve' };

  const pluginsDirectory = v['plugins-directory'];
  if ((mode.kind === 'serve' || mode.kind === 'dump-all' || mode.kind === 'dump-one') && !pluginsDirectory) {
    throw new CliError("required option '-d, --plugins-directory <dir>' not specified");
  }
  return {
    mode,
    pluginsDirectory: pluginsDirectory ?? '',
    kongPrefix: v['kong-prefix'] ?? DEFAULT_KONG_PREFIX,
    sockName: v['sock-name'] ?? DEFAULT_SOCK_NAME,
    verbose,
    logLevel: verbose > 0 ? 'debug' : 'info',
    eventTtlSeconds: parseSeconds('event-ttl', v['event-ttl'], DEFAULT_EVENT_TTL_SECONDS, false),
    instanceIdleTtlSeconds: parseSeconds(
      'instance-idle-ttl', v['instance-idle-ttl'], DEFAULT_INSTANCE_IDLE_TTL_SECONDS, true),
    drainTimeoutSeconds: parseSeconds('drain-timeout', v['drain-timeout'], DEFAULT_DRAIN_TIMEOUT_SECONDS, true),
  };
}
