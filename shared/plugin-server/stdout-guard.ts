// Keeps stdout clean. Kong parses the stdout of `--dump-all-plugins` as JSON during startup, so anything
// else printed there (a plugin's console.log at load time, a library's banner) breaks Kong's startup
// (docs/kong-plugin-protocol.md §1.2, §5.11). Once installed, every write to process.stdout
// (console.log/info/dir included) goes to stderr instead, as log lines `<time> [info] (stdout) <text>`,
// through the same non-blocking sink as every log line; only writeToRealStdout() reaches the real stdout.
import { formatLine } from './logger';
import { stderrSink } from '../logging/async-line-sink';

type StdoutWrite = typeof process.stdout.write;
type WriteCallback = (err?: Error | null) => void;

let realWrite: StdoutWrite | undefined;

/** Redirects process.stdout writes to stderr. Idempotent. */
export function installStdoutGuard(): void {
  if (realWrite !== undefined) return;
  realWrite = process.stdout.write.bind(process.stdout);
  const toStderr = (
    chunk: string | Uint8Array,
    encodingOrCallback?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean => {
    const cb = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = text.replace(/\r?\n$/, '').split(/\r?\n/).map((l) => formatLine('info', ['(stdout)', l]));
    stderrSink.write(lines.join(''));
    if (cb) queueMicrotask(() => cb());
    return true;
  };
  process.stdout.write = toStderr as StdoutWrite;
  // A closed pipe on either stream must not become an uncaught exception.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

/** Writes to the real stdout and resolves once the data is handed to the OS. */
export function writeToRealStdout(data: string | Uint8Array): Promise<void> {
  const write = realWrite ?? process.stdout.write.bind(process.stdout);
  return new Promise((resolve, reject) => {
    write(data, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}
