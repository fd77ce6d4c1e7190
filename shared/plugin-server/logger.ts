// Line logger for the plugin server. Everything goes to stderr (stdout is reserved for the dump output
// Kong parses), one line per entry: `<ISO time> [<level>] <message>`. Newlines inside a message (stack
// traces) are escaped as `\n` so that Kong, which logs every output line of the process separately,
// keeps an entry together.
//
// Call sites decide what goes into a message: RPC argument values (bodies, headers, credentials) are
// never logged, not even at debug level; debug lines carry method names, ids and sizes only.
import { inspect } from 'node:util';
import type { PdkLogger } from './kong-pdk';
import { stderrSink, type LineSink } from '../logging/async-line-sink';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger extends PdkLogger {
  readonly level: LogLevel;
  isEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr, written without blocking, by default. */
  sink?: LineSink;
}

/** Renders one log part: Errors as their stack, strings as they are, anything else briefly inspected. */
export function formatPart(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return part.stack ?? `${part.name}: ${part.message}`;
  return inspect(part, { depth: 2, breakLength: Infinity, maxStringLength: 200, maxArrayLength: 20 });
}

export function formatLine(level: LogLevel, parts: readonly unknown[], now: Date = new Date()): string {
  const text = parts.map(formatPart).join(' ').replace(/\r?\n/g, '\\n');
  return `${now.toISOString()} [${level}] ${text}\n`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const sink = options.sink ?? stderrSink;
  const min = RANK[level];
  const emit = (lvl: LogLevel, parts: unknown[]): void => {
    if (RANK[lvl] < min) return;
    try {
      sink.write(formatLine(lvl, parts));
    } catch {
      // A closed stderr must never take the server down.
    }
  };
  return {
    level,
    isEnabled: (lvl) => RANK[lvl] >= min,
    debug: (...parts) => emit('debug', parts),
    info: (...parts) => emit('info', parts),
    warn: (...parts) => emit('warn', parts),
    error: (...parts) => emit('error', parts),
  };
}

/** The message of any thrown value, without its stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return formatPart(err);
}

/** The stack (or message) of any thrown value. */
export function errorStack(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return errorMessage(err);
}
