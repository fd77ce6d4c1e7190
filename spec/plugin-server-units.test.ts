// In-process unit tests of the plugin server's building blocks: the streaming msgpack framer, the RPC
// codec, the command line, the logger, id allocation and the event state machine.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, decode } from '@msgpack/msgpack';
import { MsgpackFramer, MsgpackFrameError } from '../shared/plugin-server/msgpack-framer';
import {
  ENCODED_DATA,
  RENAMED_PROTO_KEY,
  decodeFrame,
  decodeMessage,
  encodeResponse,
  errorText,
  peekMsgId,
} from '../shared/plugin-server/rpc-codec';
import { CliError, normalizeArgv, parseCli } from '../shared/plugin-server/cli';
import { createLogger, formatLine, type Logger } from '../shared/plugin-server/logger';
import { IdAllocator } from '../shared/plugin-server/ids';
import { PluginEvent, internalErrorBody, type EventHost, type EventOutput } from '../shared/plugin-server/pdk-event';
import { KongPdk, type KongInstance } from '../shared/plugin-server/kong-pdk';

/** Realistic Kong requests, with every msgpack shape that matters (fixstr/str8/str16, bin, maps, ints). */
function sampleMessages(binSize = 300): Buffer[] {
  const msgs: unknown[] = [
    [0, 1, 'plugin.StartInstance', [{ Name: 'probe', Config: JSON.stringify({ model: 'm', n: 1, pad: 'p'.repeat(300) }) }]],
    [0, 2, 'plugin.HandleEvent', [{ InstanceId: 3_000_000_000, EventName: 'access' }]],
    [0, 3, 'plugin.Step', [{ EventId: 70_000, Data: 'example.com' }]],
    [0, 4, 'plugin.StepMultiMap', [{ EventId: 70_000, Data: { host: ['h'], accept: ['a', 'b'], x: [] } }]],
    [0, 5, 'plugin.Step', [{ EventId: 70_000, Data: new Uint8Array(binSize).fill(7) }]],
    [0, 6, 'plugin.Step', [{ EventId: 70_000 }]],
    [0, 300, 'plugin.Step', [{ EventId: -1, Data: [1.5, -200, true, false, null, 2 ** 40, { nested: { deep: [[]] } }] }]],
  ];
  return msgs.map((m) => Buffer.from(encode(m)));
}

function feed(framer: MsgpackFramer, stream: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    out.push(...framer.push(stream.subarray(from, cut)));
    from = cut;
  }
  return out;
}

describe('MsgpackFramer', () => {
  const msgs = sampleMessages();
  const stream = Buffer.concat(msgs);

  test('whole stream in one chunk gives every message', () => {
    const frames = new MsgpackFramer().push(stream);
    assert.equal(frames.length, msgs.length);
    frames.forEach((f, i) => assert.ok(f.equals(msgs[i]!)));
  });

  test('a split at every byte offset', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const frames = feed(new MsgpackFramer(), stream, [cut]);
      assert.equal(frames.length, msgs.length, `cut at ${cut}`);
      frames.forEach((f, i) => assert.ok(f.equals(msgs[i]!), `cut at ${cut}, message ${i}`));
    }
  });

  test('a bin32 payload split near its head, its length field and its end', () => {
    const big = sampleMessages(70_000);
    const bigStream = Buffer.concat(big);
    const start = big.slice(0, 4).reduce((n, m) => n + m.length, 0);
    const cuts = new Set<number>();
    for (const at of [start, start + big[4]!.length]) for (let d = -60; d <= 60; d++) cuts.add(at + d);
    for (let c = start; c < start + big[4]!.length; c += 997) cuts.add(c);
    for (const cut of cuts) {
      const frames = feed(new MsgpackFramer(), bigStream, [cut]);
      assert.equal(frames.length, big.length, `cut at ${cut}`);
      frames.forEach((f, i) => assert.ok(f.equals(big[i]!), `cut at ${cut}, message ${i}`));
    }
  });

  test('one byte at a time, and random chunkings', () => {
    const small = Buffer.concat(msgs.slice(1, 4));
    const frames = feed(new MsgpackFramer(), small, Array.from({ length: small.length - 1 }, (_, i) => i + 1));
    assert.deepEqual(frames.map((f) => decode(f)), msgs.slice(1, 4).map((m) => decode(m)));
    let seed = 42;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let round = 0; round < 200; round++) {
      const cuts = new Set<number>();
      const k = 1 + rnd(20);
      for (let i = 0; i < k; i++) cuts.add(1 + rnd(stream.length - 1));
      const got = feed(new MsgpackFramer(), stream, [...cuts].sort((a, b) => a - b));
      assert.equal(got.length, msgs.length);
      got.forEach((f, i) => assert.ok(f.equals(msgs[i]!)));
    }
  });

  test('frames decode to the original values, and state carries over after a frame ends mid-chunk', () => {
    const framer = new MsgpackFramer();
    const a = framer.push(stream.subarray(0, msgs[0]!.length + 5));
    assert.equal(a.length, 1);
    assert.equal(framer.hasPartialFrame, true);
    const b = framer.push(stream.subarray(msgs[0]!.length + 5));
    assert.equal(b.length, msgs.length - 1);
    assert.equal(framer.hasPartialFrame, false);
    assert.deepEqual(decodeFrame(b[0]!), decode(msgs[1]!));
  });

  test('a 1.4 MB table cut into 64 KiB chunks', () => {
    const table: Record<string, string[]> = {};
    for (let h = 0; h < 100; h++) table[`h${h}`] = Array.from({ length: 5000 }, (_, i) => String(i % 97));
    const msg = Buffer.from(encode([0, 9, 'plugin.StepMultiMap', [{ EventId: 1, Data: table }]]));
    assert.ok(msg.length > 1_300_000);
    const cuts: number[] = [];
    for (let c = 65_536; c < msg.length; c += 65_536) cuts.push(c);
    const frames = feed(new MsgpackFramer(), msg, cuts);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(msg));
  });

  test('invalid bytes and oversized frames throw MsgpackFrameError', () => {
    assert.throws(() => new MsgpackFramer().push(Buffer.from([0x92, 0x01, 0xc1])), MsgpackFrameError);
    assert.throws(() => new MsgpackFramer(100).push(Buffer.from([0xc6, 0, 0, 1, 0])), /larger than 100 bytes/);
    assert.throws(() => new MsgpackFramer(100).push(Buffer.from([0xdd, 0, 1, 0, 0])), /larger than 100 bytes/);
  });

  test('empty containers and zero-length payloads complete immediately', () => {
    const values = [[], {}, '', new Uint8Array(0), [[], {}], { a: [] }, 0, -1, null];
    const msgsZ = values.map((v) => Buffer.from(encode(v)));
    const frames = new MsgpackFramer().push(Buffer.concat(msgsZ));
    assert.equal(frames.length, values.length);
  });
});

describe('RPC codec', () => {
  test('decodeMessage validates the request shape', () => {
    const ok = decodeMessage(Buffer.from(encode([0, 7, 'plugin.GetStatus', [null]])));
    assert.deepEqual(ok, { kind: 'request', msgid: 7, method: 'plugin.GetStatus', params: [null] });
    assert.equal(decodeMessage(Buffer.from(encode([2, 'serverPid', [1]]))).kind, 'notification');
    assert.deepEqual(decodeMessage(Buffer.from(encode(42))), { kind: 'invalid', msgid: undefined, reason: 'RPC message is not an array of 3 or 4 elements' });
    const badMethod = decodeMessage(Buffer.from(encode([0, 8, 5, []])));
    assert.equal(badMethod.kind, 'invalid');
    assert.equal(badMethod.kind === 'invalid' && badMethod.msgid, 8);
  });

  test('map keys Kong can send but msgpack refuses: booleans and __proto__', () => {
    // {[true]: 1, __proto__: "x", ok: 2} as Lua could pack it.
    const bytes = Buffer.from([0x83, 0xc3, 0x01, 0xa9, ...Buffer.from('__proto__'), 0xa1, 0x78, 0xa2, ...Buffer.from('ok'), 0x02]);
    const v = decodeFrame(bytes) as Record<string, unknown>;
    assert.equal(v.true, 1);
    assert.equal(v[RENAMED_PROTO_KEY], 'x');
    assert.equal(v.ok, 2);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });

  test('peekMsgId recovers the msgid of an undecodable request', () => {
    assert.equal(peekMsgId(Buffer.from([0x94, 0x00, 0x05, 0xc1])), 5);
    assert.equal(peekMsgId(Buffer.from([0x94, 0x00, 0xcd, 0x01, 0x00, 0xc1])), 256);
    assert.equal(peekMsgId(Buffer.from([0x81, 0x00, 0x05])), undefined);
  });

  test('responses are [1, msgid, err, result]; event replies splice pre-encoded Data', () => {
    assert.deepEqual(decode(encodeResponse(3, undefined, { a: 1 })), [1, 3, null, { a: 1 }]);
    assert.deepEqual(decode(encodeResponse(4, 'boom', undefined)), [1, 4, 'boom', null]);
    const call = { Method: 'kong.request.get_header', Args: ['host'] };
    const spliced = encodeResponse(70_000, undefined, { Data: call, EventId: 4_000_000_000, [ENCODED_DATA]: encode(call) });
    assert.deepEqual(decode(spliced), [1, 70_000, null, { Data: call, EventId: 4_000_000_000 }]);
    assert.ok(Buffer.from(spliced).equals(Buffer.from(encode([1, 70_000, null, { Data: call, EventId: 4_000_000_000 }]))));
    assert.throws(() => encodeResponse(1, undefined, { f: () => 1 }));
  });

  test('errorText never returns a stack', () => {
    assert.equal(errorText(new Error('m')), 'm');
    assert.equal(errorText('s'), 's');
    assert.equal(errorText({ message: 'o' }), 'o');
    assert.equal(errorText(undefined), 'Unknown plugin server error');
  });
});

describe('command line', () => {
  test('the original options, long, short and single-dash long forms', () => {
    const a = parseCli(['-d', '/p', '-p', '/k', '--sock-name', 's.sock', '-v']);
    assert.equal(a.pluginsDirectory, '/p');
    assert.equal(a.kongPrefix, '/k');
    assert.equal(a.sockName, 's.sock');
    assert.equal(a.logLevel, 'debug');
    assert.deepEqual(a.mode, { kind: 'serve' });
    const b = parseCli(['-plugins-directory', '/p', '-kong-prefix', '/k', '-dump-all-plugins']);
    assert.deepEqual([b.pluginsDirectory, b.kongPrefix, b.mode.kind], ['/p', '/k', 'dump-all']);
    const c = parseCli(['--plugins-directory=/p', '-dump-plugin-info', 'x', '-vv']);
    assert.deepEqual(c.mode, { kind: 'dump-one', pluginName: 'x' });
    assert.equal(c.verbose, 2);
    const d = parseCli(['-d', '/p']);
    assert.deepEqual([d.kongPrefix, d.sockName, d.logLevel, d.eventTtlSeconds, d.instanceIdleTtlSeconds],
      ['/usr/local/kong', 'js_pluginserver.sock', 'info', 75, 3600]);
  });

  test('our options and errors', () => {
    const o = parseCli(['-d', '/p', '--event-ttl', '1.5', '--instance-idle-ttl', '0']);
    assert.equal(o.eventTtlSeconds, 1.5);
    assert.equal(o.instanceIdleTtlSeconds, 0);
    assert.throws(() => parseCli(['--sock-name', 'x']), CliError);
    assert.throws(() => parseCli(['-d', '/p', '--event-ttl', '0']), /positive/);
    assert.throws(() => parseCli(['-d', '/p', '--instance-idle-ttl', 'x']), /non-negative/);
    assert.throws(() => parseCli(['-d', '/p', '--bogus']), CliError);
  });

  test('values that look like single-dash long options are left alone', () => {
    assert.deepEqual(normalizeArgv(['-d', '-kong-prefix', '-kong-prefix', 'x']), ['-d', '-kong-prefix', '--kong-prefix', 'x']);
  });
});

describe('logger and ids', () => {
  test('one line per entry with time and level; stacks are kept on one line', () => {
    const line = formatLine('error', ['failed:', new Error('two\nlines')], new Date(0));
    assert.match(line, /^1970-01-01T00:00:00\.000Z \[error\] failed: Error: two\\nlines\\n {4}at /);
    assert.equal(line.indexOf('\n'), line.length - 1);
    const out: string[] = [];
    const log = createLogger({ level: 'info', sink: { write: (l: string) => out.push(l) } });
    log.debug('hidden');
    log.info('shown');
    assert.equal(out.length, 1);
    assert.equal(log.isEnabled('debug'), false);
  });

  test('ids count up from a start, wrap within uint32, and skip ids in use', () => {
    const used = new Set([2 ** 32 - 1, 1]);
    const ids = new IdAllocator((id) => used.has(id), 2 ** 32 - 2);
    assert.deepEqual([ids.allocate(), ids.allocate(), ids.allocate()], [2 ** 32 - 2, 2, 3]);
    const randoms = new Set(Array.from({ length: 20 }, () => new IdAllocator(() => false).allocate()));
    assert.ok(randoms.size > 15, 'random starts differ');
  });
});

describe('PluginEvent', () => {
  function host(): EventHost & { closed: string[]; violations: string[]; logs: string[] } {
    const logs: string[] = [];
    const logger: Logger = createLogger({ level: 'debug', sink: { write: (l: string) => logs.push(l) } });
    const h = {
      logger,
      logs,
      closed: [] as string[],
      violations: [] as string[],
      eventClosed: (_e: PluginEvent, reason: string) => { h.closed.push(reason); },
      protocolViolation: (_e: PluginEvent, method: string) => { h.violations.push(method); },
      phaseError: () => undefined,
      firstArgumentHole: () => true,
    };
    return h;
  }
  function instance(phaseFn: (kong: Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>) => unknown): KongInstance {
    return {
      executePhase: (_phase: string, kong: unknown) => phaseFn(kong as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>),
    } as unknown as KongInstance;
  }
  const methodOf = (o: EventOutput): string => (o.kind === 'call' ? o.call.Method : o.kind);

  test('exit closes the event when handed over; later calls reject as protocol violations', async () => {
    const h = host();
    let late: unknown;
    const ev = new PluginEvent(1, 2, 'p', 'access', h);
    ev.start(instance(async (kong) => {
      const v = await kong.request!.getHeader!('x');
      await kong.response!.exit!(403, String(v));
      late = await kong.request!.getPath!().catch((e: Error) => e);
    }), new KongPdk(ev.pipe).kong);
    assert.equal(methodOf(await ev.next()), 'kong.request.get_header');
    assert.ok(ev.supply('v', false));
    const out = await ev.next();
    assert.equal(methodOf(out), 'kong.response.exit');
    assert.deepEqual(out.kind === 'call' && out.call.Args, [403, 'v']);
    assert.equal(ev.state, 'closed');
    assert.deepEqual(h.closed, ['exit']);
    await new Promise((r) => setImmediate(r));
    assert.ok(late instanceof Error && /protocol violation/.test(late.message));
    assert.deepEqual(h.violations, ['kong.request.get_path']);
  });

  test('a phase that throws answers 500 (access) or "ret" (log)', async () => {
    for (const [phase, expect] of [['access', 'kong.response.exit'], ['log', 'ret']] as const) {
      const h = host();
      const ev = new PluginEvent(1, 2, 'my-plugin', phase, h);
      ev.start(instance(() => { throw new Error('secret'); }), new KongPdk(ev.pipe).kong);
      const out = await ev.next();
      assert.equal(methodOf(out), expect);
      if (out.kind === 'call') assert.equal(out.call.Args[1], internalErrorBody('my-plugin'));
      assert.match(h.logs.join(''), /\[error\] unhandled exception in plugin my-plugin phase/);
    }
  });

  test('abandon rejects the pending call and answers a waiting request', async () => {
    const h = host();
    let err: unknown;
    const ev = new PluginEvent(9, 2, 'p', 'access', h);
    ev.start(instance(async (kong) => {
      err = await kong.request!.getBody!().catch((e: Error) => e);
    }), new KongPdk(ev.pipe).kong);
    assert.equal(methodOf(await ev.next()), 'kong.request.get_body');
    ev.abandon(80);
    await new Promise((r) => setImmediate(r));
    assert.ok(err instanceof Error && /abandoned/.test(err.message));
    assert.deepEqual(h.closed, ['abandoned']);
    assert.deepEqual(await ev.next(), { kind: 'abandoned' });
  });

  test('awaiting a PDK namespace rejects instead of hanging; exit is refused in log', async () => {
    const h = host();
    let awaited: unknown;
    let logExit: unknown;
    const ev = new PluginEvent(1, 2, 'p', 'log', h);
    ev.start(instance(async (kong) => {
      awaited = await (async () => kong.request)().catch((e: Error) => e);
      logExit = await kong.response!.exit!(200, '').catch((e: Error) => e);
    }), new KongPdk(ev.pipe).kong);
    assert.equal(methodOf(await ev.next()), 'ret');
    assert.ok(awaited instanceof TypeError && /not a promise/.test(awaited.message));
    assert.ok(logExit instanceof Error && /cannot be called in the log phase/.test(logExit.message));
  });
});
