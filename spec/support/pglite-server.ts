// A real PostgreSQL with pgvector for a test file: PGlite served over the Postgres wire protocol by
// pglite-socket, in a child process (spec/fixtures/pglite/server.mjs; in-process PGlite would block the
// test's event loop while SQL runs). Start it in before(), stop() it in after().
//
// What to know about it (see the script for more):
// - startup takes seconds (initdb in WASM, 3.5-6.5 s on 2 cores) and ~400 MB: one per test file;
// - it is one Postgres session behind a multiplexer: statements run one at a time, a transaction open on
//   one connection holds up every other connection's statements until it ends (never await another
//   connection inside a transaction), and connections above maxConnections are dropped, not queued;
// - it checks no password: any user, password and database name connect (to database postgres);
// - no TLS.
// The child exits when this process goes away (its stdin is a pipe from here), so a killed test run
// leaves no PGlite behind; and its process handle does not keep this process alive.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface PgliteServer {
  readonly host: string;
  readonly port: number;
  /** ms from spawning to the ready line. */
  readonly startupMs: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface PgliteServerOptions {
  /** Default 120 s (startup on a busy 2-core machine can take many seconds); PGLITE_START_TIMEOUT_MS overrides it. */
  readonly timeoutMs?: number;
  /** Default 16: about twice the connections the test's pools open at once. */
  readonly maxConnections?: number;
  /** Default: any free port (a deck file that names its database's port needs that one). */
  readonly port?: number;
}

const SCRIPT = join('spec', 'fixtures', 'pglite', 'server.mjs');

/** The child script, found from here upwards: works from spec/support and from dist/spec/support. */
export function pgliteServerScript(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, SCRIPT);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`pglite server: ${SCRIPT} not found above ${from}`);
  }
}

export function startPgliteServer(options: PgliteServerOptions = {}): Promise<PgliteServer> {
  const timeoutMs = options.timeoutMs ?? (Number(process.env.PGLITE_START_TIMEOUT_MS) || 120_000);
  const script = pgliteServerScript();
  const began = performance.now();
  const child = spawn(process.execPath, [script], {
    cwd: dirname(dirname(dirname(dirname(script)))), // the repository, whose node_modules has PGlite
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PGLITE_MAX_CONNECTIONS: String(options.maxConnections ?? 16), PGLITE_PORT: String(options.port ?? 0) },
  });
  // The last few kB of the child's stderr, for the error message when it fails.
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  child.stdin.on('error', () => undefined); // EPIPE when the child is gone
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  return new Promise<PgliteServer>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const tail = stderr.trim();
      const err = new Error(`PGlite test server (${script}) ${why}${tail ? `\n--- its stderr ---\n${tail}` : ''}`);
      process.stderr.write(`${err.message}\n`);
      reject(err);
    };
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => fail(`could not be spawned: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      let info: { ready?: unknown; host?: unknown; port?: unknown; error?: unknown };
      try {
        info = JSON.parse(line) as typeof info;
      } catch {
        fail(`printed something other than its ready line: ${line.slice(0, 200)}`);
        return;
      }
      if (info.ready !== true || typeof info.host !== 'string' || typeof info.port !== 'number') {
        fail(`failed to start: ${typeof info.error === 'string' ? info.error : line.slice(0, 200)}`);
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      child.stdout.resume(); // never let its stdout fill up
      // Not keeping this process alive: if a test forgets stop(), this process can still exit, and the
      // child follows (its stdin closes).
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
      const startupMs = Math.round(performance.now() - began);
      let stopped: Promise<void> | undefined;
      resolve({
        host: info.host,
        port: info.port,
        startupMs,
        pid: child.pid ?? -1,
        stop(): Promise<void> {
          stopped ??= (async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.ref(); // wait for it
            child.kill('SIGTERM');
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(kill);
          })();
          return stopped;
        },
      });
    });
  });
}
