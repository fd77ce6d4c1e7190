// Regression probes for the hardened plugin server (shared/plugin-server), one per kong-pdk 0.6.0 bug of
// docs/kong-plugin-protocol.md §5 (items 1–7 and 11). Each probe spawns the server as Kong does and talks
// raw msgpack over its unix socket. Where a probe kills or breaks the stock kong-js-pluginserver, it is run
// against the stock binary too, to show the probe is real, and ours must survive it and answer correctly
// afterwards.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs = require('node:fs');
import net = require('node:net');
import os = require('node:os');
import path = require('node:path');
import { decode, encode } from '@msgpack/msgpack';
import {
  RawRpcClient,
  asEventData,
  checkReply,
  continueEvent,
  encodeRequest,
  isPdkCall,
  runEvent,
  sleep,
  type Cuts,
  type PdkCall,
} from './support/raw-rpc';

const ROOT = path.resolve(__dirname, '..', '..');
const OURS = path.join(ROOT, 'dist', 'shared', 'plugin-server', 'main.js');
const STOCK = path.join(ROOT, 'node_modules', 'kong-pdk', 'bin', 'kong-js-pluginserver');
const FIXTURES = path.join(ROOT, 'spec', 'fixtures', 'probe-plugins');
const MAIN_PLUGINS = path.join(FIXTURES, 'main');
const NOISY_PLUGINS = path.join(FIXTURES, 'noisy');
const T = { timeout: 90_000 };

// --- processes and temp dirs, all cleaned up at the end -------------------------------------------------

type Kind = 'ours' | 'stock';
interface ExitInfo { code: number | null; signal: NodeJS.Signals | null }

const tempDirs: string[] = [];
const processes = new Set<ServerProc>();

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-probe-'));
  tempDirs.push(dir);
  return dir;
}

after(async () => {
  await Promise.all([...processes].map((p) => p.kill()));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface StartOptions {
  pluginDir?: string;
  prefix?: string;
  sockName?: string;
  args?: string[];
}

class ServerProc {
  stdout = '';
  stderr = '';
  private exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  private constructor(readonly kind: Kind, readonly child: ChildProcess, readonly socketPath: string) {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; });
    // 'close' comes after 'exit' once stdout and stderr are drained, so the captured output is complete.
    this.exited = new Promise((resolve) => child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      this.exitInfo = { code, signal };
      processes.delete(this);
      resolve(this.exitInfo);
    }));
    processes.add(this);
  }

  static async start(kind: Kind, o: StartOptions = {}): Promise<ServerProc> {
    const prefix = o.prefix ?? tempDir();
    const sockName = o.sockName ?? 'x.sock';
    const entry = kind === 'ours' ? OURS : STOCK;
    const args = [entry, '-d', o.pluginDir ?? MAIN_PLUGINS, '--kong-prefix', prefix, '--sock-name', sockName, ...(o.args ?? [])];
    // The stock server registers ts-node with type checking, which reads a tsconfig from the cwd.
    const child = spawn(process.execPath, args, { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new ServerProc(kind, child, path.join(prefix, sockName));
    await proc.waitReady();
    return proc;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  private async waitReady(): Promise<void> {
    const until = Date.now() + 20_000;
    for (;;) {
      if (!this.alive) throw new Error(`${this.kind} server exited during startup:\n${this.stdout}\n${this.stderr}`);
      if (fs.existsSync(this.socketPath)) {
        try {
          (await this.client()).close();
          return;
        } catch {
          // not accepting yet
        }
      }
      if (Date.now() > until) throw new Error(`${this.kind} server did not listen on ${this.socketPath}`);
      await sleep(25);
    }
  }

  client(): Promise<RawRpcClient> {
    return RawRpcClient.connect(this.socketPath);
  }

  /** Resolves with the exit, or undefined if the process is still running after `ms`. */
  async waitExit(ms = 10_000): Promise<ExitInfo | undefined> {
    if (this.exitInfo) return this.exitInfo;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); });
    const r = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return r;
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, as Kong stops it. */
  async terminate(): Promise<ExitInfo> {
    this.child.kill('SIGTERM');
    const r = await this.waitExit(5_000);
    if (r) return r;
    await this.kill();
    throw new Error(`${this.kind} server ignored SIGTERM`);
  }

  /** Number of stderr lines matching `re`. */
  count(re: RegExp): number {
    return this.stderr.split('\n').filter((l) => re.test(l)).length;
  }

  /** Waits until stderr matches `re` (stderr arrives through a pipe, after the RPC replies). */
  async waitForLog(re: RegExp, ms = 15_000): Promise<void> {
    await this.waitFor(() => re.test(this.stderr), `stderr to match ${re}`, ms);
  }

  async waitFor(predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n--- stderr tail:\n${this.stderr.slice(-2000)}`);
      await sleep(20);
    }
  }
}

/** Asserts that a stock-server probe really broke it: the process died. */
async function assertDied(proc: ServerProc, what: string): Promise<ExitInfo> {
  const r = await proc.waitExit(10_000);
  assert.ok(r, `stock server should have died from ${what}, but it is still running`);
  assert.ok(r.code !== 0 || r.signal !== null, `stock server exited cleanly after ${what}`);
  return r;
}

/** Ours is alive and still answers requests correctly. */
async function assertHealthy(proc: ServerProc): Promise<Status> {
  assert.ok(proc.alive, `ours died:\n${proc.stderr.slice(-3000)}`);
  const c = await proc.client();
  try {
    const status = await c.ok('GetStatus', null) as Status;
    assert.equal(status.Pid, proc.child.pid);
    const info = await c.ok('GetPluginInfo', 'probe-echo') as { Name: string };
    assert.equal(info.Name, 'probe-echo');
    return status;
  } finally {
    c.close();
  }
}

interface Status {
  Pid: number;
  Events: number;
  Instances: number;
  EventsByPhase: Record<string, number>;
  Counters: { ProtocolViolations: number; AbandonedEvents: number; PhaseErrors: number; ExpiredInstances: number };
  Plugins: Record<string, { Instances: Array<{ Id: number }> }>;
  Process: { CpuUserMicros: number; CpuSystemMicros: number; RssBytes: number; HeapUsedBytes: number };
}

async function status(proc: ServerProc): Promise<Status> {
  const c = await proc.client();
  try {
    return await c.ok('GetStatus', null) as Status;
  } finally {
    c.close();
  }
}

// --- the realistic exchange of probe-echo ---------------------------------------------------------------

const HEADERS: Record<string, string[]> = {
  host: ['api.example.com'],
  'user-agent': ['probe/1.0 (kong-like driver)'],
  accept: ['application/json', 'text/event-stream'],
  authorization: ['Bearer sk-probe-header-secret-000'],
  'content-type': ['application/json'],
  'content-length': ['137'],
  'x-request-id': ['2b0c6f0e-1d4c-4f7e-9a53-6b1d2f1b8a11'],
};
const BODY = Buffer.from(JSON.stringify({
  model: 'gpt-probe', messages: [{ role: 'user', content: 'hello, this is a body-secret-000 probe' }], stream: false,
}));

function summaryOf(headers: Record<string, string[]>, body: Uint8Array, tag: string | null): Record<string, unknown> {
  let headerCount = 0;
  let valueCount = 0;
  let valueBytes = 0;
  for (const [name, values] of Object.entries(headers)) {
    headerCount++;
    for (const v of values) {
      valueCount++;
      valueBytes += Buffer.byteLength(v) + name.length;
    }
  }
  return { tag, mode: 'exit', headerCount, valueCount, valueBytes, bodyLength: body.length, bodyIsBinary: true };
}

function echoAnswers(mode: string | undefined, headers = HEADERS, body: Uint8Array = BODY): (call: PdkCall) => unknown {
  return (call) => {
    switch (call.Method) {
      case 'kong.request.get_header': return mode;
      case 'kong.request.get_headers': return headers;
      case 'kong.request.get_raw_body': return body;
      default: return undefined;
    }
  };
}

function assertExit(end: 'ret' | PdkCall, status: number): [number, string, Record<string, unknown>] {
  assert.notEqual(end, 'ret', 'expected the event to end with kong.response.exit');
  const call = end as PdkCall;
  assert.equal(call.Method, 'kong.response.exit');
  assert.equal(call.Args[0], status);
  return call.Args as [number, string, Record<string, unknown>];
}

async function startInstance(c: RawRpcClient, name: string, config: Record<string, unknown> = {}, cuts: Cuts = []): Promise<number> {
  const r = await c.ok('StartInstance', { Name: name, Config: JSON.stringify(config) }, cuts) as { Id: number };
  assert.equal(typeof r.Id, 'number');
  return r.Id;
}

/** StartInstance, an access phase ending in exit, one ending in "ret", CloseInstance: 14 requests. */
async function echoExchange(c: RawRpcClient, cuts: Cuts, tag: string): Promise<void> {
  const id = await startInstance(c, 'probe-echo', { tag }, cuts);
  const exit = await runEvent(c, id, 'access', echoAnswers('exit'), () => cuts);
  const [, body] = assertExit(exit.end, 200);
  assert.deepEqual(JSON.parse(body), summaryOf(HEADERS, BODY, tag));
  assert.deepEqual(exit.calls.map((x) => x.Method), [
    'kong.request.get_header', 'kong.request.get_headers', 'kong.request.get_raw_body',
    'kong.response.set_header', 'kong.response.exit']);
  const ret = await runEvent(c, id, 'access', echoAnswers(undefined), () => cuts);
  assert.equal(ret.end, 'ret');
  assert.equal(ret.calls.length, 4);
  await c.ok('CloseInstance', id, cuts);
}

// --- probes -----------------------------------------------------------------------------------------------

describe('plugin server probes (docs/kong-plugin-protocol.md §5)', () => {
  test('(a) §5.1 a message split at any byte offset', T, async () => {
    // Stock: the first byte of a request alone (an array head with nothing after it) kills it.
    // (The pause lets the server read the byte on its own; should a loaded machine coalesce the two
    // writes anyway, the request is simply answered and the probe tries again.)
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    sc.pauseMs = 100;
    for (let attempt = 1; attempt <= 10 && stock.alive; attempt++) {
      const msg = encodeRequest(sc.nextMsgId(), 'StartInstance', { Name: 'probe-echo', Config: '{}' });
      await sc.writeSplit(msg, [1]).catch(() => undefined); // EPIPE once it died
      await Promise.race([sc.receive(5_000).catch(() => undefined), stock.exited]);
    }
    await assertDied(stock, 'a request split after its first byte');
    await assert.rejects(sc.receive(2_000));

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    c.pauseMs = 1;
    // Learn the message lengths of the exchange, then split every message of it at every offset k.
    let maxLen = 0;
    await echoExchange(c, (len) => { maxLen = Math.max(maxLen, len); return []; }, 'whole');
    assert.ok(maxLen > 150, `the exchange should have a long message (got ${maxLen})`);
    for (let k = 1; k < maxLen; k++) {
      await echoExchange(c, (len) => (k < len ? [k] : []), `split-${k}`);
    }
    // And every message written one byte at a time.
    await echoExchange(c, (len) => Array.from({ length: len - 1 }, (_, i) => i + 1), 'bytewise');
    c.close();
    const st = await assertHealthy(ours);
    assert.equal(st.Events, 0);
    assert.equal(st.Instances, 0);
    await ours.kill();
  });

  test('(b) §5.1 several messages in one write', T, async () => {
    const two = Buffer.concat([
      encodeRequest(1, 'GetPluginInfo', 'probe-echo'),
      encodeRequest(2, 'GetStatus', null),
    ]);
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    await sc.writeSplit(two);
    await assertDied(stock, 'two requests in one write');

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    // Three requests plus the first half of a fourth in one write, the rest in a second write.
    const fourth = encodeRequest(4, 'StartInstance', { Name: 'probe-echo', Config: '{"tag":"t"}' });
    await c.writeSplit(Buffer.concat([two, encodeRequest(3, 'GetPluginInfo', 'probe-thrower'), fourth]), [two.length + 40 + 10]);
    const replies = new Map<number, unknown>();
    for (let i = 0; i < 4; i++) {
      const m = await c.receive() as unknown[];
      replies.set(m[1] as number, m);
    }
    assert.equal((checkReply(replies.get(1), 1).result as { Name: string }).Name, 'probe-echo');
    assert.equal(typeof (checkReply(replies.get(2), 2).result as Status).Events, 'number');
    assert.equal((checkReply(replies.get(3), 3).result as { Name: string }).Name, 'probe-thrower');
    assert.equal(typeof (checkReply(replies.get(4), 4).result as { Id: number }).Id, 'number');
    c.close();
    await assertHealthy(ours);
    await ours.kill();
  });

  test('(c) §5.1 a 1.3 MB table-shaped StepMultiMap in a single write', T, async () => {
    // 100 headers (Kong's cap) with many short values: a chunk boundary almost surely falls right
    // before a type byte, which kills the stock decoder.
    const big: Record<string, string[]> = {};
    const tokens = ['1', 'en', 'gzip', 'a', 'br'];
    for (let h = 0; h < 100; h++) {
      big[`x-probe-header-${String(h).padStart(3, '0')}`] = Array.from({ length: 4300 }, (_, i) => tokens[(h + i) % tokens.length]!);
    }
    const bytes = encode(big).length;
    assert.ok(bytes > 1_250_000 && bytes < 1_400_000, `map is ${bytes} bytes`);

    async function drive(proc: ServerProc): Promise<{ c: RawRpcClient; msgid: number }> {
      const c = await proc.client();
      const id = await startInstance(c, 'probe-echo', { tag: 'big' });
      const first = asEventData(await c.ok('HandleEvent', { InstanceId: id, EventName: 'access' }));
      assert.ok(isPdkCall(first.Data) && first.Data.Method === 'kong.request.get_header');
      const second = asEventData(await c.ok('Step', { EventId: first.EventId, Data: 'exit' }));
      assert.ok(isPdkCall(second.Data) && second.Data.Method === 'kong.request.get_headers');
      const msgid = c.nextMsgId();
      await c.writeSplit(encodeRequest(msgid, 'StepMultiMap', { EventId: first.EventId, Data: big }));
      return { c, msgid };
    }

    const stock = await ServerProc.start('stock');
    const { c: sc } = await drive(stock);
    await assertDied(stock, 'a 1.3 MB StepMultiMap');
    sc.close();

    const ours = await ServerProc.start('ours');
    const { c, msgid } = await drive(ours);
    let reply = asEventData(checkReply(await c.receive(), msgid).result);
    assert.ok(isPdkCall(reply.Data) && reply.Data.Method === 'kong.request.get_raw_body');
    reply = asEventData(await c.ok('Step', { EventId: reply.EventId, Data: BODY }));
    reply = asEventData(await c.ok('Step', { EventId: reply.EventId }));
    assert.ok(isPdkCall(reply.Data));
    const [, body] = assertExit(reply.Data, 200);
    assert.deepEqual(JSON.parse(body), summaryOf(big, BODY, 'big'));
    c.close();
    await assertHealthy(ours);
    await ours.kill();
  });

  test('(d) §5.2 a connection closed with an unread reply (ECONNRESET)', T, async () => {
    // The reply echoes the config: 256 KiB, more than the client reads before it closes, so the close
    // leaves unread data and the server's socket gets ECONNRESET.
    const request = encodeRequest(1, 'StartInstance', {
      Name: 'probe-echo', Config: JSON.stringify({ tag: 'x'.repeat(256 * 1024) }),
    });
    async function closeUnread(socketPath: string): Promise<void> {
      const s = net.createConnection(socketPath);
      s.on('error', () => undefined);
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.pause();
      s.write(request);
      await sleep(150);
      s.destroy();
      await sleep(50);
    }

    const stock = await ServerProc.start('stock');
    await closeUnread(stock.socketPath);
    await assertDied(stock, 'ECONNRESET');
    assert.match(stock.stderr, /ECONNRESET|EPIPE/);

    const ours = await ServerProc.start('ours', { args: ['-v'] });
    for (let i = 0; i < 5; i++) await closeUnread(ours.socketPath);
    await assertHealthy(ours);
    await ours.waitForLog(/\[debug\] connection \d+: (ECONNRESET|EPIPE)/);
    await ours.kill();
  });

  test('(e) §5.4/§5.5 exits leave no events; a PDK call after exit rejects with a protocol violation', T, async () => {
    // Stock: after an exit the event is still there (a Step on it is answered), and a PDK call made
    // after exit is left waiting for an answer Kong never sends.
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    const sid = await startInstance(sc, 'probe-echo', { tag: 's' });
    const leaked: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await runEvent(sc, sid, 'access', echoAnswers('exit'));
      assertExit(r.end, 200);
      leaked.push(r.eventId);
    }
    for (const eid of leaked) {
      const r = await sc.call('Step', { EventId: eid });
      assert.equal(r.err, null, 'stock keeps every exited event');
      assert.equal(asEventData(r.result).Data, 'ret');
    }
    const lid = await startInstance(sc, 'probe-lifecycle');
    const ex = await runEvent(sc, lid, 'access', () => undefined);
    assertExit(ex.end, 403);
    const after = asEventData(await sc.ok('Step', { EventId: ex.eventId }));
    assert.ok(isPdkCall(after.Data) && after.Data.Method === 'kong.request.get_path',
      'stock: the call made after exit is still waiting for Kong');
    sc.close();
    await stock.kill();

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    const id = await startInstance(c, 'probe-echo', { tag: 'o' });
    let lastEid = 0;
    for (let i = 0; i < 1000; i++) {
      const r = await runEvent(c, id, 'access', echoAnswers('exit'));
      assertExit(r.end, 200);
      lastEid = r.eventId;
    }
    const before = (await status(ours)).Process;
    let st = await status(ours);
    assert.equal(st.Events, 0, '1000 exits must leave 0 events');
    // The process's own accounting, which the benchmark reads: 1000 events cost some CPU, and it only grows.
    assert.ok(before.CpuUserMicros > 0 && before.RssBytes > 0 && before.HeapUsedBytes > 0);
    assert.ok(st.Process.CpuUserMicros + st.Process.CpuSystemMicros >= before.CpuUserMicros + before.CpuSystemMicros);
    const gone = await c.call('Step', { EventId: lastEid });
    assert.match(gone.err ?? '', /event id \d+ not found/);

    const lifecycle = await startInstance(c, 'probe-lifecycle');
    const N = 200;
    for (let i = 0; i < N; i++) {
      const r = await runEvent(c, lifecycle, 'access', () => undefined);
      const [, body] = assertExit(r.end, 403);
      assert.equal(body, 'denied');
    }
    await ours.waitFor(() => ours.count(/\[error\] protocol violation/) >= N, `${N} protocol violations in stderr`);
    assert.equal(ours.count(/\[error\] protocol violation/), N);
    const report = await runEvent(c, lifecycle, 'access', () => 'report');
    const stats = JSON.parse(assertExit(report.end, 200)[1]) as Record<string, unknown>;
    assert.equal(stats.afterExitRejected, N);
    assert.equal(stats.afterExitResolved, 0);
    assert.match(String(stats.lastAfterExitError), /protocol violation/);
    st = await status(ours);
    assert.equal(st.Events, 0);
    assert.equal(st.Counters.ProtocolViolations, N);
    c.close();
    await ours.kill();
  });

  test('(f) §5.3 a throwing phase answers 500 through exit instead of "ret"', T, async () => {
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    const sid = await startInstance(sc, 'probe-thrower');
    const sr = await runEvent(sc, sid, 'access', () => 'Bearer x');
    assert.equal(sr.end, 'ret', 'stock fails open: the request would proceed');
    sc.close();
    await stock.kill();

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    const expected = JSON.stringify({
      error: { message: 'An unexpected error occurred in plugin probe-thrower', type: 'server_error' },
    });
    for (const sync of [false, true]) {
      const id = await startInstance(c, 'probe-thrower', { sync });
      const r = await runEvent(c, id, 'access', () => 'Bearer x');
      assert.equal(r.calls.length, sync ? 1 : 2);
      const [, body, headers] = assertExit(r.end, 500);
      assert.equal(body, expected);
      assert.deepEqual(headers, { 'Content-Type': 'application/json' });
      assert.doesNotMatch(body, /secret/);
      await ours.waitFor(() => new RegExp(`\\[error\\] .*probe-thrower phase access \\(instance #${id}\\b.*${sync ? 'sync' : 'async'} failure`).test(ours.stderr),
        'the exception logged with plugin, phase and instance');
      // The log phase cannot exit: the exception is logged and the phase ends normally.
      const log = await runEvent(c, id, 'log', () => undefined);
      assert.equal(log.end, 'ret');
    }
    await ours.waitForLog(/probe-thrower\.js:\d+/);
    const st = await status(ours);
    assert.equal(st.Events, 0);
    assert.equal(st.Counters.PhaseErrors, 4);
    c.close();
    await ours.kill();
  });

  test('(g) §5.7 instance ids after a restart do not collide with earlier ones', T, async () => {
    async function startThree(proc: ServerProc, prefix: string): Promise<number[]> {
      const c = await proc.client();
      const ids: number[] = [];
      for (let i = 1; i <= 3; i++) ids.push(await startInstance(c, 'probe-echo', { tag: `${prefix}${i}` }));
      c.close();
      return ids;
    }
    /** What Kong would get for a cached instance id: an error, or the tag of the instance that answers. */
    async function tagServedBy(proc: ServerProc, id: number): Promise<{ err: string | null; tag?: unknown }> {
      const c = await proc.client();
      try {
        const r = await c.call('HandleEvent', { InstanceId: id, EventName: 'access' });
        if (r.err !== null) return { err: r.err };
        const out = await continueEvent(c, r.result, echoAnswers('exit'));
        return { err: null, tag: (JSON.parse(assertExit(out.end, 200)[1]) as { tag: unknown }).tag };
      } finally {
        c.close();
      }
    }

    // Stock: ids restart at 0, so Kong's cached id of instance "a1" reaches "b1" of the new process.
    const stockPrefix = tempDir();
    let stock = await ServerProc.start('stock', { prefix: stockPrefix });
    const stockA = await startThree(stock, 'a');
    await stock.kill();
    stock = await ServerProc.start('stock', { prefix: stockPrefix });
    const stockB = await startThree(stock, 'b');
    assert.deepEqual(stockA, [0, 1, 2]);
    assert.deepEqual(stockB, [0, 1, 2]);
    const wrong = await tagServedBy(stock, stockA[0]!);
    assert.equal(wrong.tag, 'b1', 'stock: the old id silently reaches another instance');
    await stock.kill();

    // Ours: a restart (SIGTERM, as Kong stops it) gives a fresh random range.
    const prefix = tempDir();
    let ours = await ServerProc.start('ours', { prefix });
    const a = await startThree(ours, 'a');
    const exit = await ours.terminate();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(fs.existsSync(ours.socketPath), false, 'SIGTERM unlinks the socket');
    ours = await ServerProc.start('ours', { prefix });
    const b = await startThree(ours, 'b');
    assert.deepEqual([a[1]! - a[0]!, a[2]! - a[1]!], [1, 1], 'ids count up from their random start');
    for (const id of [...a, ...b]) assert.ok(Number.isInteger(id) && id > 0 && id < 2 ** 32);
    assert.equal(new Set([...a, ...b]).size, 6, `ids collide across the restart: ${a} / ${b}`);
    for (const old of a) {
      const r = await tagServedBy(ours, old);
      assert.match(r.err ?? '', /^no plugin instance #\d+/, 'an old id must get "no plugin instance" (Kong restarts it)');
    }
    assert.equal((await tagServedBy(ours, b[0]!)).tag, 'b1');
    await ours.kill();
  });

  test('(h) §5.11 --dump-all-plugins prints pure JSON even when plugins print at load time', T, async () => {
    function run(entry: string, args: string[], cwd = os.tmpdir()): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [entry, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        let err = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
        child.once('error', reject);
        child.once('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code, stdout: Buffer.concat(out), stderr: err });
        });
      });
    }

    const stock = await run(STOCK, ['-d', NOISY_PLUGINS, '--dump-all-plugins']);
    assert.throws(() => JSON.parse(stock.stdout.toString()), 'stock: stdout is not pure JSON');
    assert.match(stock.stdout.toString(), /noisy plugin: hello/);

    for (const args of [
      ['-d', NOISY_PLUGINS, '--dump-all-plugins'],
      ['-plugins-directory', NOISY_PLUGINS, '-dump-all-plugins'],
      ['--plugins-directory=' + NOISY_PLUGINS, '-v', '--dump-all-plugins'],
    ]) {
      const ours = await run(OURS, args);
      assert.equal(ours.code, 0, ours.stderr);
      const infos = JSON.parse(ours.stdout.toString()) as Array<{ Name: string; Version: string; Priority: number; Phases: string[] }>;
      assert.deepEqual(infos.map((i) => i.Name), ['noisy', 'quiet'], 'broken.js fails to load, the others are dumped');
      assert.deepEqual(infos[1], {
        Name: 'quiet', Version: '1.2.3', Priority: 7, Phases: ['access'],
        Schema: { name: 'quiet', fields: [{ config: { type: 'record', fields: [{ greeting: { type: 'string' } }] } }] },
      });
      assert.match(ours.stderr, /noisy plugin: hello from console\.log/);
      assert.match(ours.stderr, /noisy plugin: raw process\.stdout\.write/);
      assert.match(ours.stderr, /\[error\] error loading plugin "broken"/);
    }

    // --dump-plugin-info prints msgpack, as the original does.
    const one = await run(OURS, ['-d', NOISY_PLUGINS, '-dump-plugin-info', 'quiet']);
    assert.equal(one.code, 0);
    assert.equal((decode(one.stdout) as { Name: string }).Name, 'quiet');
    const missing = await run(OURS, ['-d', NOISY_PLUGINS, '--dump-plugin-info', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout.length, 0);

    // A TypeScript plugin with a type error next to a tsconfig.json that ts-node cannot use: the stock
    // server type-checks it (and reads that tsconfig), ours transpiles only.
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'typed.ts'), [
      'export class Plugin { async access(_kong: unknown) { const n: number = "not a number"; return n; } }',
      "export const Version = '1.0.0';",
      'export const Priority = 3;',
      'export const Schema = [];',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": { "module": "nonsense", "strict": true } }');
    const stockTs = await run(STOCK, ['-d', dir, '--dump-all-plugins'], dir);
    let stockNames: string[] = [];
    try {
      stockNames = (JSON.parse(stockTs.stdout.toString()) as Array<{ Name: string }>).map((i) => i.Name);
    } catch {
      stockNames = [];
    }
    assert.ok(!stockNames.includes('typed'), 'stock: the TypeScript plugin does not load');
    const oursTs = await run(OURS, ['-d', dir, '--dump-all-plugins'], dir);
    assert.equal(oursTs.code, 0, oursTs.stderr);
    assert.deepEqual((JSON.parse(oursTs.stdout.toString()) as Array<{ Name: string }>).map((i) => i.Name), ['typed']);

    // Serving: nothing on stdout either, even from noisy plugins; the socket is announced on stderr.
    const serving = await ServerProc.start('ours', { pluginDir: NOISY_PLUGINS });
    await serving.waitForLog(/\[info\] listening on .*x\.sock/);
    await serving.terminate();
    assert.equal(serving.stdout, '');
  });

  test('(i) §5.4 an abandoned event is removed after the TTL and its pending call rejects', T, async () => {
    const ours = await ServerProc.start('ours', { args: ['--event-ttl', '1'] });
    const c = await ours.client();
    const id = await startInstance(c, 'probe-lifecycle');
    const first = asEventData(await c.ok('HandleEvent', { InstanceId: id, EventName: 'access' }));
    const waiting = asEventData(await c.ok('Step', { EventId: first.EventId, Data: 'wait' }));
    assert.ok(isPdkCall(waiting.Data) && waiting.Data.Method === 'kong.request.get_body');
    assert.equal((await status(ours)).Events, 1);
    // Kong never steps again (say the Lua side raised an error).
    const until = Date.now() + 15_000;
    let st = await status(ours);
    while (st.Events !== 0 && Date.now() < until) {
      await sleep(100);
      st = await status(ours);
    }
    assert.equal(st.Events, 0, 'the abandoned event is removed');
    assert.equal(st.Counters.AbandonedEvents, 1);
    await ours.waitForLog(/\[warn\] event \d+ of plugin probe-lifecycle \(phase access, instance #\d+\) abandoned/);
    const late = await c.call('Step', { EventId: first.EventId, Data: { too: 'late' } });
    assert.match(late.err ?? '', /not found/);
    const report = await runEvent(c, id, 'access', () => 'report');
    const stats = JSON.parse(assertExit(report.end, 200)[1]) as Record<string, unknown>;
    assert.equal(stats.waitRejected, 1, 'the plugin\'s pending PDK call was rejected');
    assert.equal(stats.waitResolved, 0);
    assert.match(String(stats.lastWaitError), /abandoned/);
    c.close();
    await ours.kill();
  });

  test('§5.6 instances idle longer than --instance-idle-ttl are dropped; Kong gets "no plugin instance"', T, async () => {
    const ours = await ServerProc.start('ours', { args: ['--instance-idle-ttl', '1'] });
    const c = await ours.client();
    const id = await startInstance(c, 'probe-echo', { tag: 'idle' });
    assert.equal((await status(ours)).Instances, 1);
    const until = Date.now() + 15_000;
    while ((await status(ours)).Instances !== 0 && Date.now() < until) await sleep(100);
    const st = await status(ours);
    assert.equal(st.Instances, 0);
    assert.equal(st.Counters.ExpiredInstances, 1);
    const r = await c.call('HandleEvent', { InstanceId: id, EventName: 'access' });
    assert.match(r.err ?? '', /^no plugin instance #\d+/);
    c.close();
    await ours.kill();

    // With 0 nothing expires (and kong-pdk's own 60 ms timer is not running).
    const never = await ServerProc.start('ours', { args: ['--instance-idle-ttl', '0'] });
    const c2 = await never.client();
    await startInstance(c2, 'probe-echo');
    await sleep(300);
    assert.equal((await status(never)).Instances, 1);
    c2.close();
    await never.kill();
  });
});

describe('plugin server robustness', () => {
  test('malformed messages, unknown namespaces and methods get errors, never a crash', T, async () => {
    // Stock: a well-formed msgpack value that is not an RPC array kills it.
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    await sc.writeSplit(Buffer.from(encode(42)));
    await assertDied(stock, 'a non-array message');

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    let r = await c.call('GetNothing', null);
    assert.equal(r.err, 'method GetNothing not implemented');
    for (const internal of ['loadPlugins', 'close', 'constructor', 'step', 'SetPluginDir']) {
      r = await c.call(internal, null);
      assert.equal(r.err, `method ${internal} not implemented`, `${internal} must not be callable over RPC`);
    }
    let msgid = c.nextMsgId();
    await c.writeSplit(Buffer.from(encode([0, msgid, 'other.GetStatus', [null]])));
    assert.equal(checkReply(await c.receive(), msgid).err, 'RPC for other is not supported');
    msgid = c.nextMsgId();
    await c.writeSplit(Buffer.from(encode([0, msgid, 42, [null]])));
    assert.match(checkReply(await c.receive(), msgid).err ?? '', /method is not a string/);
    // Bad parameters.
    for (const [method, param, re] of [
      ['StartInstance', 'nope', /expects \{Name/],
      ['StartInstance', { Name: 'probe-nope', Config: '{}' }, /probe-nope not initialized/],
      ['StartInstance', { Name: 'probe-echo', Config: '{not json' }, /not valid JSON/],
      ['HandleEvent', { InstanceId: 'x', EventName: 'access' }, /^no plugin instance/],
      ['Step', { EventId: 12345 }, /event id 12345 not found/],
      ['Step', null, /expects \{EventId/],
      ['CloseInstance', 999, /^no plugin instance #999/],
    ] as const) {
      r = await c.call(method, param);
      assert.match(r.err ?? '', re, `${method}(${JSON.stringify(param)})`);
    }
    // A config error from the plugin's constructor names the field.
    r = await c.call('StartInstance', { Name: 'probe-config', Config: '{}' });
    assert.match(r.err ?? '', /config\.model: expected a string/);
    await ours.waitForLog(/\[error\] cannot start an instance of probe-config/);
    // A non-array value: error-replied if the msgid can be read, else the connection is closed.
    await c.writeSplit(Buffer.from(encode({ not: 'an rpc' })));
    await c.closed;
    const c2 = await ours.client();
    await c2.writeSplit(Buffer.from([0xc1]));
    await c2.closed;
    await assertHealthy(ours);
    await ours.kill();
  });

  test('exceptions and rejections outside any phase are logged, the server keeps running', T, async () => {
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    const sid = await startInstance(sc, 'probe-lifecycle');
    assert.equal((await runEvent(sc, sid, 'access', () => 'stray')).end, 'ret');
    await assertDied(stock, 'a stray exception in plugin code');

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    const id = await startInstance(c, 'probe-lifecycle');
    for (let i = 0; i < 3; i++) assert.equal((await runEvent(c, id, 'access', () => 'stray')).end, 'ret');
    await ours.waitFor(() => ours.count(/\[error\] uncaught exception .*stray exception from a timer/) === 3 &&
      ours.count(/\[error\] unhandled promise rejection, continuing: .*stray unhandled rejection/) === 3, 'the stray errors logged');
    c.close();
    await assertHealthy(ours);
    await ours.kill();
  });

  test('an unencodable PDK argument rejects the plugin\'s call instead of breaking the reply', T, async () => {
    const stock = await ServerProc.start('stock');
    const sc = await stock.client();
    const sid = await startInstance(sc, 'probe-bad-args', { kind: 'function' });
    const sr = await sc.call('HandleEvent', { InstanceId: sid, EventName: 'access' });
    assert.match(sr.err ?? '', /Unrecognized object/, 'stock: Kong gets an error reply (fail-open), the event hangs');
    sc.close();
    await stock.kill();

    const ours = await ServerProc.start('ours');
    const c = await ours.client();
    for (const kind of ['function', 'bigint']) {
      const id = await startInstance(c, 'probe-bad-args', { kind });
      const r = await runEvent(c, id, 'access', () => undefined);
      const outcome = JSON.parse(assertExit(r.end, 200)[1]) as { rejected: boolean; message: string };
      assert.equal(outcome.rejected, true);
      assert.match(outcome.message, /cannot send kong\.response\.set_header to Kong/);
    }
    assert.equal((await status(ours)).Events, 0);
    c.close();
    await ours.kill();
  });

  test('startup: creates the prefix, replaces a stale socket file; logs are lines on stderr without values', T, async () => {
    const prefix = path.join(tempDir(), 'nested', 'prefix');
    fs.mkdirSync(prefix, { recursive: true });
    fs.writeFileSync(path.join(prefix, 'x.sock'), 'stale');
    const ours = await ServerProc.start('ours', { prefix, args: ['-v', '-v'] });
    const c = await ours.client();
    await echoExchange(c, [], 'logs');
    c.close();
    const exit = await ours.terminate();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(fs.existsSync(ours.socketPath), false);
    assert.equal(ours.stdout, '');
    const lines = ours.stderr.trimEnd().split('\n');
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(debug|info|warn|error)\] /, line);
    }
    assert.match(ours.stderr, /\[debug\] .*rpc #\d+ plugin\.StepMultiMap \(\d+ bytes\)/);
    for (const secret of ['sk-probe-header-secret-000', 'body-secret-000', 'api.example.com']) {
      assert.ok(!ours.stderr.includes(secret), `a value (${secret}) reached the log`);
    }

    const missing = path.join(tempDir(), 'does', 'not', 'exist');
    const fresh = await ServerProc.start('ours', { prefix: missing });
    assert.ok(fs.existsSync(path.join(missing, 'x.sock')));
    await fresh.kill();
  });
});

// `kong reload` (seen on Kong 3.9.3): the next generation's plugin server starts on the same socket path
// while the old one still runs; the old one gets SIGTERM seconds later, when the old worker 0 exits.
describe('reload: two generations on one socket path', () => {
  test('the new server takes the path over; the old one, on SIGTERM, leaves it to the new one', T, async () => {
    const prefix = tempDir();
    const old = await ServerProc.start('ours', { prefix });
    const next = await ServerProc.start('ours', { prefix });
    // New connections reach the new server as soon as it listens (the path never goes missing).
    for (let i = 0; (await status(next)).Pid !== next.child.pid; i++) {
      assert.ok(i < 500, 'the new server never took the socket path over');
      await sleep(10);
    }
    assert.deepEqual(await old.terminate(), { code: 0, signal: null });
    assert.match(old.stderr, /a newer server now listens there/);
    assert.ok(fs.existsSync(next.socketPath), 'the old server must not unlink the socket the new one listens on');
    await assertHealthy(next);
    // Kong stopping the last generation: its socket is its own, so it goes.
    await next.terminate();
    assert.equal(fs.existsSync(next.socketPath), false);
    assert.deepEqual(fs.readdirSync(prefix), [], 'no staging names left behind');
  });

  test('on SIGTERM an event in flight is finished on its connection before the server exits', T, async () => {
    const prefix = tempDir();
    const old = await ServerProc.start('ours', { prefix });
    const c = await old.client();
    const started = await c.ok('StartInstance', { Name: 'probe-echo', Config: JSON.stringify({ tag: 'drain' }) }) as { Id: number };
    // The access phase's first PDK call is handed to Kong; Kong takes a while to step it.
    const first = asEventData(await c.ok('HandleEvent', { InstanceId: started.Id, EventName: 'access' }));
    assert.ok(isPdkCall(first.Data));
    old.child.kill('SIGTERM');
    await old.waitForLog(/SIGTERM received/);
    assert.ok(old.alive, 'it waits for the event');
    const outcome = await continueEvent(c, first, (call) => (call.Method === 'kong.request.get_header' ? 'exit' : call.Method === 'kong.request.get_raw_body' ? new Uint8Array([1]) : undefined));
    assert.equal((outcome.end as PdkCall).Method, 'kong.response.exit', 'the event ran to its end');
    assert.deepEqual(await old.waitExit(5_000), { code: 0, signal: null }, 'then it exits');
    c.close();
  });
});
