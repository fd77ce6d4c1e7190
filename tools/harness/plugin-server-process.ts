// How Kong runs an external plugin server (kong/runloop/plugin_servers/process.lua): worker 0 execs the
// start command with nginx's stripped environment, logs every output line, and respawns the process at
// most once a second unless it exits with 127. The query command runs separately, in the master, with
// the full environment, and its stdout must be pure JSON.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RpcPool } from './rpc-connection';

export interface PluginServerDef {
  /** The pluginserver_names entry. */
  name: string;
  socketPath: string;
  /** argv of start_cmd: [executable, ...args]. Kong splits the command on spaces. */
  startCmd: string[];
  /** argv of query_cmd. */
  queryCmd: string[];
  /** Variables kept in the stripped environment (nginx `env` directives). TZ is always kept. */
  env?: Record<string, string>;
}

export interface OutputLine {
  server: string;
  pid: number;
  line: string;
}

/** Runs the query command as Kong's master does and parses its stdout strictly. */
export function queryPluginInfo(def: PluginServerDef): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = def.queryCmd;
    execFile(cmd!, args, { env: process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`query command of pluginserver ${def.name} failed: ${err.message}\n${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`query command of pluginserver ${def.name} printed invalid JSON ` +
          `(${(e as Error).message}): ${JSON.stringify(stdout.slice(0, 300))}`));
      }
    });
  });
}

export class PluginServerProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private lastSpawn = 0;
  private respawnTimer: NodeJS.Timeout | undefined;
  readonly output: OutputLine[] = [];
  /** Pids of every process started, in order. */
  readonly pids: number[] = [];
  private readonly maxOutput = 5000;

  constructor(readonly def: PluginServerDef, private readonly onLine: (l: OutputLine) => void = () => {}) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopping = false;
    this.spawnOnce();
  }

  private spawnOnce(): void {
    this.lastSpawn = Date.now();
    const [cmd, ...args] = this.def.startCmd;
    const env: Record<string, string> = { ...(this.def.env ?? {}) };
    if (process.env.TZ) env.TZ = process.env.TZ;
    const child = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const pid = child.pid ?? -1;
    this.pids.push(pid);
    // Kong merges stdout and stderr and logs each line as `[<name>:<pid>] ...`.
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        const l = { server: this.def.name, pid, line };
        this.output.push(l);
        if (this.output.length > this.maxOutput) this.output.splice(0, this.output.length - this.maxOutput);
        this.onLine(l);
      });
    }
    child.on('exit', (code) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping || code === 127) return;
      const wait = Math.max(0, 1000 - (Date.now() - this.lastSpawn));
      this.respawnTimer = setTimeout(() => this.spawnOnce(), wait);
    });
  }

  /**
   * Resolves once this process answers on the socket path. The path alone says little: during a reload
   * it still belongs to the previous generation's server until the new one takes it over.
   */
  async waitUntilServing(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.child?.pid !== undefined && existsSync(this.def.socketPath) && await this.servingPid() === this.child.pid) return;
      if (Date.now() > until) {
        const tail = this.output.slice(-20).map((l) => l.line).join('\n');
        throw new Error(`pluginserver ${this.def.name} (pid ${this.child?.pid}) is not serving on ${this.def.socketPath}\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The pid of the server answering on the socket path now (GetStatus), if any. */
  private async servingPid(): Promise<number | undefined> {
    const pool = new RpcPool(this.def.socketPath, 2000);
    try {
      const status = await pool.call(1, 'plugin.GetStatus', [null], () => {}) as { Pid?: unknown } | null;
      return typeof status?.Pid === 'number' ? status.Pid : undefined;
    } catch {
      return undefined;
    } finally {
      pool.close();
    }
  }

  /** Kong's stop_pluginservers: SIGTERM, no respawn; resolves when the process has exited. */
  terminate(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.respawnTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Kills the running process as a crash would (it will be respawned). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  /** Stops the process for good: SIGTERM, then SIGKILL if it has not exited within 3 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.respawnTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); }, 3000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    });
  }
}
