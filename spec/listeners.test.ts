// What the plugin servers listen on, read from the kernel (/proc: each process's sockets in LISTEN state):
// every TCP listener is on loopback, whatever the settings ask, and each refuses what it did not issue
// (the relay without a token issued in access, the metrics listener anything but GET /metrics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { waitFor } from './support/relay-log';
import { postJson, startTestGateway } from './support/test-gateway';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

/** Every TCP socket process `pid` listens on: [address, port] as the kernel has it. */
function listening(pid: number): Array<{ address: string; port: number }> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  const out: Array<{ address: string; port: number }> = [];
  for (const [file, v6] of [['tcp', false], ['tcp6', true]] as const) {
    let table = '';
    try { table = readFileSync(`/proc/${pid}/net/${file}`, 'utf8'); } catch { continue; }
    for (const row of table.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue; // 0A: LISTEN
      const [hex, port] = f[1]!.split(':') as [string, string];
      out.push({ address: v6 ? v6Address(hex) : v4Address(hex), port: parseInt(port, 16) });
    }
  }
  return out;
}

function v4Address(hex: string): string {
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
}

function v6Address(hex: string): string {
  // Four little-endian 32-bit words.
  const bytes: string[] = [];
  for (let w = 0; w < 4; w++) for (let b = 3; b >= 0; b--) bytes.push(hex.slice(w * 8 + b * 2, w * 8 + b * 2 + 2));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(parseInt(bytes[i]! + bytes[i + 1]!, 16).toString(16));
  return groups.join(':') === '0:0:0:0:0:0:0:1' ? '::1' : groups.join(':');
}

function call(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : '{"messages":[{"role":"user","content":"hi"}]}');
  });
}

test('every listener of every plugin server is on loopback, even when the settings ask for more, and refuses what it did not issue', async () => {
  const [relayPort, metricsPort, advancedMetrics] = [await freePort(), await freePort(), await freePort()];
  const target = {
    route_type: 'llm/v1/chat', auth: { header_name: 'Authorization', header_value: 'Bearer sk-listeners-000000000' },
    model: { provider: 'openai', name: 'm', options: { upstream_url: 'http://127.0.0.1:9/v1/chat/completions' } },
  };
  const t = await startTestGateway({
    config: {
      _format_version: '3.0',
      services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [
        { name: 'p', paths: ['/p'], plugins: [{ name: 'ai-prompt-guard', config: { allow_patterns: ['.'] } }, { name: 'ai-proxy', config: target }] },
        { name: 'a', paths: ['/a'], plugins: [{ name: 'ai-proxy-advanced', config: { targets: [target] } }] },
      ] }],
    },
    layout: {
      env: {
        AI_GATEWAY_RELAY_LISTEN_AI_PROXY: `127.0.0.1:${relayPort}`,
        // Asked for every interface: refused, with a warning.
        AI_GATEWAY_RELAY_LISTEN_AI_PROXY_ADVANCED: `0.0.0.0:${await freePort()}`,
        AI_GATEWAY_METRICS_LISTEN_AI_PROXY: `127.0.0.1:${metricsPort}`,
        AI_GATEWAY_METRICS_LISTEN_AI_PROXY_ADVANCED: `0.0.0.0:${advancedMetrics}`,
      },
    },
  });
  try {
    // The relays start with their first request.
    await postJson(`${t.url}/p`, { messages: [{ role: 'user', content: 'hi' }] });
    await postJson(`${t.url}/a`, { messages: [{ role: 'user', content: 'hi' }] });
    await waitFor(() => t.gw.serverOutput().find((l) => l.line.includes(`also listening on http://127.0.0.1:${relayPort}`)), 'the fixed address');
    await waitFor(() => t.gw.serverOutput().find((l) => l.line.includes(`AI metrics listening on http://127.0.0.1:${metricsPort}`)), 'the metrics listener');
    assert.ok(t.gw.serverOutput().some((l) => /AI_GATEWAY_RELAY_LISTEN: the plugin server listens on loopback only, not 0\.0\.0\.0/.test(l.line)));
    assert.ok(t.gw.serverOutput().some((l) => /AI_GATEWAY_METRICS_LISTEN: the plugin server listens on loopback only, not 0\.0\.0\.0/.test(l.line)));

    const all = t.gw.processes.flatMap((p) => listening(p.pid!).map((l) => ({ ...l, server: p.def.name })));
    const proxy = all.filter((l) => l.server === 'ai-proxy').map((l) => l.port);
    assert.ok(proxy.includes(relayPort) && proxy.includes(metricsPort) && proxy.length === 3, `ai-proxy: relay, fixed address, metrics: ${JSON.stringify(all)}`);
    assert.equal(all.filter((l) => l.server === 'ai-proxy-advanced').length, 1, `ai-proxy-advanced: its relay only: ${JSON.stringify(all)}`);
    assert.equal(all.filter((l) => l.server === 'ai-prompt-guard').length, 0, 'the guard listens on nothing but its socket');
    for (const l of all) assert.ok(l.address === '127.0.0.1' || l.address === '::1', `${l.server} listens on ${l.address}:${l.port}`);

    // Each refuses what it did not issue.
    for (const l of all) {
      const metrics = l.port === metricsPort;
      for (const [method, path] of [['POST', '/ai-relay/AAAAAAAAAAAAAAAAAAAAAA'], ['POST', '/'], ['GET', '/ai-relay/'], ['PUT', '/metrics'], ['GET', '/admin']]) {
        assert.equal(await call(l.port, method!, path!), 404, `${l.server} :${l.port} ${method} ${path}`);
      }
      assert.equal(await call(l.port, 'GET', '/metrics'), 200, `${l.server} :${l.port}: GET /metrics is what it serves${metrics ? '' : ' (the relay too)'}`);
    }
  } finally {
    await t.close();
  }
});
