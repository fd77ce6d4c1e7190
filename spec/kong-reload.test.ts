// `kong reload` and Kong's per-worker instances, as a real Kong 3.9.3 showed them: a reload starts a new
// generation of plugin servers on the same socket paths while the old one still runs and gets SIGTERM
// when the old worker 0 exits; every worker has its own instance of a plugin config with its own
// __seq__. Through the real plugin servers and the harness, which models both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { ScriptedProvider, chunk } from './fakes/scripted-provider';
import { startTestGateway, postJson, openaiProxyPlugin, type TestGateway } from './support/test-gateway';
import { parseDeclarativeConfig } from '../tools/harness/declarative-config';
import { waitFor } from './support/relay-log';

const KEY = 'sk-reload-test-0123456789';
let provider: ScriptedProvider;
before(async () => {
  provider = new ScriptedProvider();
  await provider.listen();
  provider.script = provider.answer('hi');
});
after(() => provider.close());

const chat = (extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content: 'hello' }], ...extra });

function deck(): unknown {
  return {
    _format_version: '3.0',
    services: [{
      name: 'ai', url: 'http://127.0.0.1:9', routes: [{
        name: 'chat', paths: ['/chat'], plugins: [
          { name: 'ai-prompt-guard', config: { deny_patterns: ['forbidden'] } },
          openaiProxyPlugin(provider.url, KEY, { model: { name: 'scripted-1' } }),
        ],
      }],
    }],
  };
}

async function statuses(t: TestGateway, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await postJson(`${t.url}/chat`, chat())).status);
  return out;
}

test('kong reload: every AI route keeps answering once the old plugin servers have exited', async () => {
  const t = await startTestGateway({ config: deck() });
  try {
    assert.deepEqual(await statuses(t, 2), [200, 200]);
    const oldPids = t.gw.processes.map((p) => p.pid);
    await t.gw.reload();
    assert.deepEqual(await statuses(t, 2), [200, 200], 'the new generation serves at once');
    await t.gw.reloadSettled();
    assert.ok(t.gw.serverOutput().some((l) => oldPids.includes(l.pid) && /SIGTERM received/.test(l.line)), 'the old servers were stopped');
    for (const p of t.gw.processes) assert.ok(existsSync(p.def.socketPath), `${p.def.socketPath} is still there`);
    assert.deepEqual(await statuses(t, 4), [200, 200, 200, 200], 'and after they exited');
    // Concurrent requests need fresh RPC connections (one request in flight per connection), so they
    // connect to the socket path again rather than reuse a pooled connection.
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => postJson(`${t.url}/chat`, chat())));
    assert.deepEqual(concurrent.map((r) => r.status), Array(8).fill(200));
    // The guard's verdicts too: it is a plugin server of its own.
    assert.equal((await postJson(`${t.url}/chat`, { messages: [{ role: 'user', content: 'forbidden' }] })).status, 400);
  } finally {
    await t.close();
  }
});

test('kong reload: a stream in flight on the old generation runs to its end while the old plugin server drains', async () => {
  const t = await startTestGateway({ config: deck() });
  try {
    // Worker 0 takes this one; the stream goes to worker 1, so the old worker 0 exits (and sends
    // SIGTERM to the old plugin servers) while the stream is still running.
    assert.equal((await postJson(`${t.url}/chat`, chat())).status, 200);
    // Long enough for the new generation to start and the old worker 0 to exit while it runs.
    const words = ['one ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight ', 'nine ', 'ten '];
    provider.script = provider.stream(words, 400);
    const res = await fetch(`${t.url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat({ stream: true })) });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = Buffer.from((await reader.read()).value ?? []).toString();
    await t.gw.reload();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    const contents = text.split('\n\n').filter((e) => e.startsWith('data: {'))
      .map((e) => (JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '').join('');
    assert.equal(contents, words.join(''));
    assert.match(text, /data: \[DONE\]\n\n$/);
    assert.doesNotMatch(text, /"error"/);
    await t.gw.reloadSettled();
    assert.ok(t.gw.serverOutput().some((l) => /draining: .*relayed requests/.test(l.line)), 'the old ai-proxy server waited for the stream');
  } finally {
    provider.script = provider.answer('hi');
    await t.close();
  }
});

test('kong reload with the relay at a fixed address: the new generation uses set_target until the old one lets the address go', async () => {
  const relayPort = await new Promise<number>((resolve) => {
    const srv = createNetServer();
    srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => resolve(p)); });
  });
  const config = deck() as { services: Array<Record<string, unknown>> };
  config.services[0]!.url = `http://127.0.0.1:${relayPort}`;
  const t = await startTestGateway({ config, layout: { env: { AI_GATEWAY_RELAY_LISTEN_AI_PROXY: `127.0.0.1:${relayPort}` } } });
  try {
    assert.deepEqual(await statuses(t, 2), [200, 200]);
    const bound = () => t.gw.serverOutput().filter((l) => l.line.includes(`also listening on http://127.0.0.1:${relayPort}`)).map((l) => l.pid);
    await waitFor(() => (bound().length === 1 ? true : undefined), 'the first generation on the fixed address');
    await t.gw.reload();
    assert.deepEqual(await statuses(t, 4), [200, 200, 200, 200], 'while the old generation still holds the address');
    await t.gw.reloadSettled();
    assert.deepEqual(await statuses(t, 4), [200, 200, 200, 200]);
    await waitFor(() => (bound().length === 2 ? true : undefined), 'the new generation takes the address over', 5000);
    assert.deepEqual(await statuses(t, 4), [200, 200, 200, 200], 'and serves there');
  } finally {
    await t.close();
  }
});

test('kong reload with a config the new generation refuses: the running one stays as it is', async () => {
  const t = await startTestGateway({ config: deck() });
  try {
    const bad = parseDeclarativeConfig({
      _format_version: '3.0',
      services: [{ name: 'ai', url: 'http://127.0.0.1:9', routes: [{ name: 'chat', paths: ['/chat'], plugins: [{ name: 'no-such-plugin' }] }] }],
    });
    await assert.rejects(t.gw.reload(bad), /no-such-plugin plugin is enabled but not installed/);
    assert.deepEqual(await statuses(t, 2), [200, 200]);
  } finally {
    await t.close();
  }
});

test('ai-proxy-advanced: one rotation for every worker, whatever each instance\'s __seq__', async () => {
  const target = (name: string) => ({
    route_type: 'llm/v1/chat', weight: 100,
    auth: { header_name: 'Authorization', header_value: `Bearer ${KEY}` },
    model: { provider: 'openai', name, options: { upstream_url: `${provider.url}/v1/chat/completions` } },
  });
  provider.script = (r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...chunk(null), object: 'chat.completion', model: r.body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }] }));
  };
  const t = await startTestGateway({
    config: { _format_version: '3.0', services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [{ name: 'r', paths: ['/b'],
      plugins: [{ name: 'ai-proxy-advanced', config: { targets: [target('1'), target('2')] } }] }] }] },
    workers: 2,
  });
  try {
    let seen = '';
    for (let i = 0; i < 16; i++) {
      const r = await postJson(`${t.url}/b`, chat());
      assert.equal(r.status, 200, r.text);
      seen += (r.json as { model: string }).model;
    }
    assert.equal(seen, '1212121212121212');
  } finally {
    provider.script = provider.answer('hi');
    await t.close();
  }
});
