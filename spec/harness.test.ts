// The Kong-side harness itself: that it talks to the real plugin server as Kong 3.x does, and that it
// catches plugins that break the protocol. Fixture plugins: spec/fixtures/harness-plugins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startTestGateway, routeConfig, postJson, type TestGateway } from './support/test-gateway';
import { queryPluginInfo } from '../tools/harness/plugin-server-process';
import { pluginServerDefs } from '../tools/harness/plugin-server-layout';
import { checkPluginInfo } from '../tools/harness/kong-metaschema';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };

/** An upstream that echoes what it received. */
let echo: Server;
let echoPort = 0;
before(async () => {
  echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': 'echo' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
after(() => new Promise<void>((r) => echo.close(() => r())));

function probe(config: Record<string, unknown>): unknown {
  return { name: 'harness-probe', config };
}

async function withGateway(plugins: unknown[], fn: (t: TestGateway) => Promise<void>, allowViolations = false): Promise<void> {
  const t = await startTestGateway({ config: routeConfig(plugins, { url: `http://127.0.0.1:${echoPort}` }), fixtures: true, allowViolations });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

test('our plugins pass Kong\'s plugin-info checks, with Kong\'s priorities and the package version', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'kong-info-'));
  try {
    const byName = new Map<string, Record<string, unknown>>();
    for (const def of pluginServerDefs({ prefix })) {
      const dump = await queryPluginInfo(def) as Array<Record<string, unknown>>;
      assert.equal(dump.length, 1, 'one plugin per pluginserver entry (Kong 3.9 registers only the first)');
      assert.deepEqual(checkPluginInfo(dump[0], { allowBundledName: true }), []);
      byName.set(String(dump[0]!.Name), dump[0]!);
    }
    assert.deepEqual([...byName.keys()].sort(), ['ai-prompt-guard', 'ai-proxy', 'ai-proxy-advanced']);
    assert.equal(byName.get('ai-prompt-guard')!.Priority, 771);
    assert.equal(byName.get('ai-proxy')!.Priority, 770);
    assert.equal(byName.get('ai-proxy-advanced')!.Priority, 770);
    for (const info of byName.values()) {
      assert.equal(info.Version, pkg.version);
      assert.ok(!(info.Phases as string[]).includes('response'), `${String(info.Name)} must not have a response phase (it forces buffering)`);
    }
    // A stock Kong would shadow these names with its bundled Lua plugins: the harness says so.
    assert.match(checkPluginInfo(byName.get('ai-proxy')).join(), /bundled/);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

test('exit answers without a reply to Kong, skips later access plugins, and the log phase still runs', async () => {
  await withGateway([probe({ action: 'exit' }), { name: 'harness-probe-low' }], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.equal(r.status, 418);
    assert.deepEqual(r.json, { teapot: true });
    assert.equal(r.headers.get('x-probe'), 'exit');
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(r.headers.get('x-low-ran'), null, 'the lower-priority access phase must not run after an exit');
    await gw.settled();
    const logs = gw.kongLog.map((l) => l.message);
    assert.ok(logs.some((m) => m.includes('probe log phase: {"status":418}')), logs.join('\n'));
    assert.ok(logs.some((m) => m.includes('low log phase ran')));
    assert.deepEqual(gw.violations, []);
    // Round trips counted as Kong makes them: access (ctx.shared.set, exit) and log (serialize, log.info).
    assert.deepEqual(gw.runner.stats.get('harness-probe'), { events: 2, pdkCalls: 4 });
    assert.deepEqual(gw.runner.stats.get('harness-probe-low'), { events: 1, pdkCalls: 1 }, 'its access phase never ran');
  });
});

test('the harness catches a PDK call made after kong.response.exit', async () => {
  await withGateway([probe({ action: 'exit_then_call' })], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.equal(r.status, 403);
    for (let i = 0; i < 50 && gw.violations.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(gw.violations.length, 1, JSON.stringify(gw.violations));
    assert.match(gw.violations[0]!.message, /protocol violation/);
  }, true);
});

test('a PDK method Kong does not have is a violation (Kong answers nil)', async () => {
  await withGateway([probe({ action: 'unknown_method' })], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.deepEqual(r.json, { value: 'undefined' });
    assert.deepEqual(gw.violations.map((v) => v.message), ['unknown PDK method kong.request.get_no_such_thing']);
  }, true);
});

test('an undefined hole in PDK arguments loses what follows, as in Lua, and is reported', async () => {
  await withGateway([probe({ action: 'hole' })], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('x-lost'), null);
    assert.match(gw.violations[0]?.message ?? '', /nil hole/);
  }, true);
});

test('a config field the plugin needs but the Schema gives no default: Kong sends no key, the instance fails, 500', async () => {
  await withGateway([{ name: 'needs-config', config: {} }], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.equal(r.status, 500);
    assert.deepEqual(r.json, { message: 'An unexpected error occurred', request_id: r.headers.get('x-kong-request-id') });
    assert.ok(gw.kongLog.some((l) => l.message.includes('starting instance') && l.message.includes('config.limit')));
  });
  await withGateway([{ name: 'needs-config', config: { limit: 3 } }], async ({ url }) => {
    assert.deepEqual((await postJson(`${url}/t`, {})).json, { limit: 3 });
  });
});

test('a Lua error in a PDK call gives Kong\'s 500 and abandons the event; the server keeps serving', async () => {
  await withGateway([probe({ action: 'lua_error' })], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.equal(r.status, 500);
    assert.equal((r.json as { message: string }).message, 'An unexpected error occurred');
    assert.ok(gw.kongLog.some((l) => l.message.includes('kong.service.set_target')));
    assert.equal((await postJson(`${url}/t`, {})).status, 500, 'still answering');
  });
});

test('a phase that throws ends in a deliberate 500, never a pass-through, and the exception text stays in the log', async () => {
  await withGateway([probe({ action: 'throws' }), { name: 'harness-probe-low' }], async ({ gw, url }) => {
    const r = await postJson(`${url}/t`, {});
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.text, /sk-do-not-leak/);
    assert.equal(r.headers.get('x-low-ran'), null);
    // The plugin server's log lines come through a pipe, after the response: wait for the line.
    const logged = () => gw.serverOutput().some((l) => l.line.includes('sk-do-not-leak') || l.line.includes('secret'));
    for (let i = 0; i < 150 && !logged(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(logged());
  });
});

test('headers and query arrive as Kong\'s multimaps', async () => {
  await withGateway([probe({ action: 'headers' })], async ({ url }) => {
    const res = await fetch(`${url}/t?a=1&a=2&flag&b=x%20y`, { headers: { 'X-Multi': 'one', 'X-Other': 'z' } });
    const j = await res.json() as { headers: Record<string, unknown>; query: Record<string, unknown>; header: unknown };
    assert.deepEqual(j.headers['x-multi'], ['one']);
    assert.deepEqual(j.headers['x-other'], ['z']);
    assert.deepEqual(j.query, { a: ['1', '2'], flag: [], b: ['x y'] });
    assert.equal(j.header, 'one');
  });
});

test('kong.service changes reach the upstream; Kong keeps the client query string unless cleared', async () => {
  const base = { action: 'retarget', target_host: '127.0.0.1', target_port: 0, path: '/v1/echo' };
  await withGateway([probe({ ...base, target_port: echoPort })], async ({ url }) => {
    const res = await fetch(`${url}/t/extra?keep=1`, { method: 'POST', body: 'original' });
    assert.equal(res.headers.get('x-probe-response'), 'yes');
    assert.equal(res.headers.get('x-upstream'), 'echo');
    const j = await res.json() as { url: string; headers: Record<string, string>; body: string };
    assert.equal(j.url, '/v1/echo?keep=1');
    assert.equal(j.headers.host, '127.0.0.1', 'set_target sets the Host to the target host, without port');
    assert.equal(j.headers['x-probe'], 'set');
    assert.equal(j.body, '{"rewritten":true}');
    assert.equal(j.headers['content-length'], String('{"rewritten":true}'.length));
  });
  await withGateway([probe({ ...base, target_port: echoPort, query: '' })], async ({ url }) => {
    const j = await (await fetch(`${url}/t?drop=1`, { method: 'POST', body: 'x' })).json() as { url: string };
    assert.equal(j.url, '/v1/echo');
  });
});

test('a response phase makes Kong buffer the upstream response and hands the plugin its body', async () => {
  await withGateway([probe({ action: 'retarget', target_host: '127.0.0.1', target_port: echoPort, path: '/p', rewrite_response: true })], async ({ url }) => {
    const r = await postJson(`${url}/t`, { a: 1 });
    assert.equal(r.status, 200);
    const j = r.json as { upstream_status: number; upstream_body: string };
    assert.equal(j.upstream_status, 200);
    assert.equal((JSON.parse(j.upstream_body) as { url: string }).url, '/p');
  });
});

test('the log phase runs from a snapshot: serialize works, ngx.var readers are Lua errors', async () => {
  await withGateway([probe({ action: 'pass', log_get_var: true })], async ({ gw, url }) => {
    await postJson(`${url}/t`, {});
    await gw.settled();
    const logs = gw.kongLog.map((l) => l.message);
    assert.ok(logs.some((m) => m.includes('probe log phase:')));
    assert.ok(logs.some((m) => m.includes('kong.nginx.get_var') && m.includes('ngx.timer')), logs.join('\n'));
  });
});

test('a body over client_body_buffer_size: get_raw_body() fails as in Kong, get_raw_body(0) reads it on 3.8+', async () => {
  const big = JSON.stringify({ pad: 'x'.repeat(20_000) });
  await withGateway([probe({ action: 'raw_body' })], async ({ url }) => {
    assert.equal((await postJson(`${url}/t`, big)).status, 500);
    assert.deepEqual((await postJson(`${url}/t`, '{"small":1}')).json, { size: 11, type: '[object Uint8Array]' });
  });
  await withGateway([probe({ action: 'raw_body', body_arg: 0 })], async ({ url }) => {
    assert.deepEqual((await postJson(`${url}/t`, big)).json, { size: big.length, type: '[object Uint8Array]' });
  });
});

test('kong.ctx.shared carries copies from a plugin to the next, in priority order', async () => {
  await withGateway([{ name: 'harness-probe-low' }, probe({ action: 'share' })], async ({ url }) => {
    const res = await fetch(`${url}/t`, { method: 'POST', body: '{}' });
    assert.equal(res.headers.get('x-low-ran'), JSON.stringify({ n: 1, list: ['a'] }));
  });
});

test('after a plugin server crash Kong\'s instance reset recovers, and new instance ids do not reuse old ones', async () => {
  await withGateway([probe({ action: 'exit' })], async ({ gw, url }) => {
    assert.equal((await postJson(`${url}/t`, {})).status, 418);
    const proc = gw.processes.find((p) => p.def.name === 'harness-probe')!;
    const idsBefore = new Set([...gw.workers].flatMap((w) => [...w.instances.values()].map((i) => i.id)));
    const pid = proc.pid;
    proc.kill();
    for (let i = 0; i < 200 && (proc.pid === pid || proc.pid === undefined); i++) await new Promise((r) => setTimeout(r, 20));
    await proc.waitUntilServing();
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 4; i++) assert.equal((await postJson(`${url}/t`, {})).status, 418);
    const idsAfter = [...gw.workers].flatMap((w) => [...w.instances.values()].map((i) => i.id));
    assert.ok(idsAfter.every((id) => !idsBefore.has(id)), `${[...idsBefore]} vs ${idsAfter}`);
    assert.ok(gw.kongLog.some((l) => l.message.includes('no plugin instance')), 'the reset went through "no plugin instance"');
  });
});

test('Kong 3.9 registers only the first plugin of a dump; 3.8 registers them all', async () => {
  const config = routeConfig([{ name: 'ai-proxy', config: { route_type: 'llm/v1/chat', model: { provider: 'openai', name: 'm' } } }]);
  await assert.rejects(startTestGateway({ config, layout: { mode: 'single' } }), /ai-proxy plugin is enabled but not installed/);
  const t = await startTestGateway({ config, layout: { mode: 'single' }, kongVersion: '3.8.1' });
  await t.close();
});

test('a plugin the declarative config names but no plugin server provides is refused at start', async () => {
  await assert.rejects(startTestGateway({ config: routeConfig([{ name: 'no-such-plugin' }]) }), /no-such-plugin plugin is enabled but not installed/);
});

test('a violation fails the test that caused it: close() reports it', async () => {
  const t = await startTestGateway({ config: routeConfig([probe({ action: 'unknown_method' })]), fixtures: true });
  await postJson(`${t.url}/t`, {});
  await assert.rejects(t.close(), /broke Kong's protocol:\nharness-probe: unknown PDK method/);
});

test('GetStatus reports the plugin server\'s own CPU and memory, collecting garbage first when asked and able', async () => {
  for (const nodeArgs of [[], ['--expose-gc']]) {
    const t = await startTestGateway({ config: routeConfig([probe({ action: 'exit' })]), fixtures: true, layout: { nodeArgs } });
    try {
      const [s] = await t.gw.serverStatuses({ gc: true });
      const p = (s!.status as { Process: { CpuUserMicros: number; HeapUsedBytes: number; Collected: boolean } }).Process;
      assert.ok(p.CpuUserMicros > 0 && p.HeapUsedBytes > 0);
      assert.equal(p.Collected, nodeArgs.length > 0, `collected with node ${nodeArgs.join(' ') || '(no flag)'}`);
    } finally {
      await t.close();
    }
  }
});

test('an unknown route gets Kong\'s 404', async () => {
  await withGateway([], async ({ url }) => {
    const r = await postJson(`${url}/nowhere`, {});
    assert.equal(r.status, 404);
    // kong.response.error's JSON template, request id included.
    assert.equal(r.text, `{\n  "message":"no Route matched with those values",\n  "request_id":"${r.headers.get('x-kong-request-id')}"\n}`);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(r.headers.get('server'), 'kong/3.9.3');
  });
});

// --- nginx's side of proxying, as Kong 3.9.3 does it ---------------------------------------------------

/** An upstream that streams `pieces` `pauseMs` apart, with `headers`; records when each was written. */
async function streamingUpstream(pieces: string[], pauseMs: number, headers: Record<string, string> = {}) {
  const state = { writtenAt: [] as number[], closedAfter: -1, closedAt: 0 };
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
    let i = 0;
    res.on('close', () => {
      if (state.closedAfter < 0) { state.closedAfter = i; state.closedAt = Date.now(); }
    });
    const next = () => {
      if (res.destroyed) return;
      if (i === pieces.length) { res.end(); return; }
      res.write(pieces[i]!);
      state.writtenAt.push(Date.now());
      i++;
      setTimeout(next, pauseMs);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, state, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** Reads a response body, noting when each piece arrived. */
async function arrivals(res: Response): Promise<Array<{ at: number; text: string }>> {
  const out: Array<{ at: number; text: string }> = [];
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push({ at: Date.now(), text: Buffer.from(value).toString() });
  }
}

test('nginx answers Expect: 100-continue itself and never sends Expect upstream', async () => {
  await withGateway([], async ({ url }) => {
    const body = JSON.stringify({ pad: 'x'.repeat(5000) });
    const reply = await new Promise<{ status: number; text: string; continued: boolean }>((resolve, reject) => {
      const u = new URL(`${url}/t`);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
      let continued = false;
      req.on('continue', () => { continued = true; req.end(body); });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, continued }));
      });
      req.on('error', reject);
    });
    assert.equal(reply.status, 200, reply.text);
    assert.ok(reply.continued, 'the client was told to continue');
    const seen = JSON.parse(reply.text) as { headers: Record<string, string>; body: string };
    assert.equal(seen.headers.expect, undefined);
    assert.equal(seen.body, body);
  });
});

test('client_max_body_size: a larger body gets Kong\'s 413 before any plugin runs, declared or chunked', async () => {
  const t = await startTestGateway({ config: routeConfig([probe({ action: 'exit' })], { url: `http://127.0.0.1:${echoPort}` }), fixtures: true, clientMaxBodySize: 1000 });
  try {
    const r = await postJson(`${t.url}/t`, { pad: 'x'.repeat(2000) });
    assert.equal(r.status, 413);
    assert.equal(r.text, `{\n  "message":"Payload too large",\n  "request_id":"${r.headers.get('x-kong-request-id')}"\n}`);
    const chunked = await fetch(`${t.url}/t`, {
      method: 'POST', duplex: 'half',
      body: new ReadableStream({ start(c) { for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode('y'.repeat(400))); c.close(); } }),
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.equal(t.gw.runner.stats.get('harness-probe'), undefined, 'no plugin ran');
    assert.equal((await postJson(`${t.url}/t`, { small: true })).status, 418, 'a body within the limit goes on');
  } finally {
    await t.close();
  }
});

test('proxied answers: the upstream\'s Content-Length kept, Server kept or Kong\'s, Via, X-Accel-* consumed', async () => {
  await withGateway([], async ({ url }) => {
    const res = await fetch(`${url}/t`, { method: 'POST', body: 'x' });
    const text = await res.text();
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
    assert.equal(res.headers.get('transfer-encoding'), null, 'not re-chunked');
    assert.equal(res.headers.get('server'), 'kong/3.9.3', 'the upstream sent none');
    assert.equal(res.headers.get('via'), '1.1 kong/3.9.3');
  });
  const up = await streamingUpstream(['a'], 0, { server: 'upstream/1.0', 'x-accel-buffering': 'no', 'x-accel-expires': '5' });
  const t = await startTestGateway({ config: routeConfig([], { url: up.url }) });
  try {
    const res = await fetch(`${t.url}/t`);
    await res.text();
    assert.equal(res.headers.get('server'), 'upstream/1.0');
    assert.equal(res.headers.get('x-accel-buffering'), null);
    assert.equal(res.headers.get('x-accel-expires'), null);
  } finally {
    await t.close();
    await up.close();
  }
});

test('proxy_buffering: a buffered route holds a stream until the end unless the upstream says X-Accel-Buffering: no', async () => {
  const pieces = ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n', 'data: 4\n\n'];
  for (const [name, routeBuffering, headers, streams] of [
    ['buffered route', true, {}, false],
    ['response_buffering: false', false, {}, true],
    ['X-Accel-Buffering: no', true, { 'x-accel-buffering': 'no' }, true],
  ] as const) {
    const up = await streamingUpstream([...pieces], 150, headers);
    const config = { _format_version: '3.0', services: [{ name: 's', url: up.url, routes: [{ name: 'r', paths: ['/t'], response_buffering: routeBuffering }] }] };
    const t = await startTestGateway({ config });
    try {
      const got = await arrivals(await fetch(`${t.url}/t`));
      assert.equal(got.map((g) => g.text).join(''), pieces.join(''), name);
      const lastWritten = up.state.writtenAt.at(-1)!;
      if (streams) assert.ok(got[0]!.at < lastWritten, `${name}: the first piece arrives before the upstream wrote its last`);
      else assert.ok(got[0]!.at >= lastWritten, `${name}: nothing arrives before the upstream is done`);
    } finally {
      await t.close();
      await up.close();
    }
  }
});

test('a client that goes away is noticed at once: the upstream connection closes before its next write', async () => {
  const up = await streamingUpstream(['one ', 'two ', 'three ', 'four '], 600, { 'x-accel-buffering': 'no' });
  const t = await startTestGateway({ config: routeConfig([], { url: up.url }) });
  try {
    const ac = new AbortController();
    const res = await fetch(`${t.url}/t`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    for (let i = 0; i < 200 && up.state.closedAfter < 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(up.state.closedAfter, 1, 'closed after the first piece, before the second was due');
  } finally {
    await t.close();
    await up.close();
  }
});

test('every worker has its own instance of a plugin config, with its own __seq__ (plugins_iterator.lua)', async () => {
  await withGateway([probe({ action: 'exit' })], async ({ gw, url }) => {
    for (let i = 0; i < 4; i++) assert.equal((await postJson(`${url}/t`, {})).status, 418);
    const plugin = gw.runner.stats.has('harness-probe') ? [...gw.workers[0]!.instances.keys()][0]! : '';
    const seqs = gw.workers.map((w) => w.instances.get(plugin)?.seq);
    const ids = gw.workers.map((w) => w.instances.get(plugin)?.id);
    assert.equal(new Set(seqs).size, gw.workers.length, `per-worker seqs ${seqs}`);
    assert.equal(new Set(ids).size, gw.workers.length, `per-worker instances ${ids}`);
  });
});
