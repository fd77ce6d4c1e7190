// `npm run bench` (full, for the README) and `npm run bench -- --quick` (under a minute): what the plugins
// add to every call, as ratios and differences measured in one run on this machine. It starts the real
// plugin servers through the Kong-side harness and zero-latency fake providers, and for each scenario
// runs the same client at the same concurrency against three variants, interleaved: the fake provider
// directly, a harness route with no plugin (what our Kong stand-in costs by itself), and the route with
// the plugins. Absolute times on shared machines are noise; the differences within one run are the figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { parseDeclarativeConfig } from '../spec/harness/declarative-config';
import { KongGateway } from '../spec/harness/kong-gateway';
import { pluginServerDefs } from '../spec/harness/plugin-server-layout';
import { startFormatFake, type Format } from './format-fakes';

const quick = process.argv.includes('--quick');
const CHUNKS = 50;
const PER_BATCH = quick ? 60 : 400;
const ROUNDS = quick ? 2 : 5;
const CONCURRENCY = quick ? [1, 16] : [1, 16, 64];
const SOAK = quick ? 5_000 : 100_000;
// --profile DIR: the plugin servers write V8 CPU profiles there (node --cpu-prof), for `where the time goes`.
const profileDir = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;

interface Scenario { name: string; format: Format; guard: boolean; advanced?: boolean }
const SCENARIOS: Scenario[] = [
  { name: 'openai->openai', format: 'openai', guard: false },
  { name: 'openai->anthropic', format: 'anthropic', guard: false },
  { name: 'openai->bedrock', format: 'bedrock', guard: false },
  { name: 'guard+openai', format: 'openai', guard: true },
  // ai-proxy-advanced, round-robin over three OpenAI-format targets (the balancer, the shared state).
  { name: 'advanced(3)->openai', format: 'openai', guard: false, advanced: true },
];
type Variant = 'direct' | 'none' | 'plugins';
const VARIANTS: Variant[] = ['direct', 'none', 'plugins'];

const PROVIDER_PATH: Record<Format, (stream: boolean) => string> = {
  openai: () => '/v1/chat/completions',
  anthropic: () => '/v1/messages',
  bedrock: (stream) => `/model/bench-model/${stream ? 'converse-stream' : 'converse'}`,
};

function aiProxy(format: Format, fakeUrl: string): unknown {
  const common = { route_type: 'llm/v1/chat', logging: { log_statistics: true } };
  switch (format) {
    case 'openai': return { name: 'ai-proxy', config: { ...common, auth: { header_name: 'Authorization', header_value: 'Bearer sk-bench-key-000000' }, model: { provider: 'openai', name: 'bench-model', options: { upstream_url: `${fakeUrl}/v1/chat/completions` } } } };
    case 'anthropic': return { name: 'ai-proxy', config: { ...common, auth: { header_name: 'x-api-key', header_value: 'sk-ant-bench-000000' }, model: { provider: 'anthropic', name: 'claude-bench', options: { anthropic_version: '2023-06-01', max_tokens: 256, upstream_url: `${fakeUrl}/v1/messages` } } } };
    case 'bedrock': return { name: 'ai-proxy', config: { ...common, auth: { aws_access_key_id: 'AKIABENCHBENCHBENCH0', aws_secret_access_key: 'bench-secret-bench-secret-bench-secret00' }, model: { provider: 'bedrock', name: 'bench-model', options: { bedrock: { aws_region: 'us-east-1' }, upstream_url: `${fakeUrl}/model/bench-model/converse` } } } };
  }
}

function aiProxyAdvanced(fakeUrl: string): unknown {
  const target = (name: string) => ({
    route_type: 'llm/v1/chat', weight: 100, logging: { log_statistics: true },
    auth: { header_name: 'Authorization', header_value: 'Bearer sk-bench-key-000000' },
    model: { provider: 'openai', name, options: { upstream_url: `${fakeUrl}/v1/chat/completions` } },
  });
  return { name: 'ai-proxy-advanced', config: { targets: [target('bench-a'), target('bench-b'), target('bench-c')], balancer: { algorithm: 'round-robin', retries: 2 } } };
}

const GUARD = {
  name: 'ai-prompt-guard',
  config: {
    deny_patterns: ['ignore (all )?previous instructions', 'disregard the system prompt', 'you are now DAN', '(?i)jailbreak', 'reveal your prompt', 'sudo mode', 'BEGIN PRIVATE KEY', '\\d{3}-\\d{2}-\\d{4}', '(?i)password\\s*[:=]', '(a+)+$'],
    allow_patterns: ['(?i)weather', '(?i)invoice', '(?i)order', '(?i)shipping', '(?i)refund', '(?i)product', '(?i)account', '(?i)hours', '(?i)policy', '(?i)question'],
  },
};

function body(stream: boolean): string {
  return JSON.stringify({ messages: [{ role: 'user', content: 'I have a question about my order.' }], stream, max_tokens: 256 });
}

interface Sample { ms: number; ttfbMs: number }

async function one(pool: Pool, path: string, payload: string): Promise<Sample> {
  const t0 = performance.now();
  const res = await pool.request({ method: 'POST', path, body: payload, headers: { 'content-type': 'application/json' } });
  let ttfb = 0;
  for await (const _ of res.body) { if (ttfb === 0) ttfb = performance.now() - t0; }
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
  return { ms: performance.now() - t0, ttfbMs: ttfb || performance.now() - t0 };
}

async function batch(pool: Pool, path: string, payload: string, n: number, concurrency: number): Promise<{ samples: Sample[]; seconds: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      samples.push(await one(pool, path, payload));
    }
  }));
  return { samples, seconds: (performance.now() - t0) / 1000 };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

interface ProcStatus { Process: { CpuUserMicros: number; CpuSystemMicros: number; RssBytes: number; HeapUsedBytes: number } }

async function cpuMicros(gw: KongGateway): Promise<number> {
  const all = await gw.serverStatuses();
  return all.reduce((t, s) => t + (s.status as ProcStatus).Process.CpuUserMicros + (s.status as ProcStatus).Process.CpuSystemMicros, 0);
}

/** Live memory: the plugin servers run with --expose-gc and collect before they report. */
async function memory(gw: KongGateway): Promise<{ rss: number; heap: number }> {
  const all = await gw.serverStatuses({ gc: true });
  return all.reduce((t, s) => ({ rss: t.rss + (s.status as ProcStatus).Process.RssBytes, heap: t.heap + (s.status as ProcStatus).Process.HeapUsedBytes }), { rss: 0, heap: 0 });
}

function pdkTotals(gw: KongGateway): Map<string, number> {
  return new Map([...gw.runner.stats].map(([k, v]) => [k, v.pdkCalls]));
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

async function main(): Promise<void> {
  const fakes = new Map<Format, string>();
  const servers = [];
  for (const f of ['openai', 'anthropic', 'bedrock'] as Format[]) {
    const s = await startFormatFake(f, CHUNKS);
    fakes.set(f, s.url);
    servers.push(s.server);
  }
  const services = [];
  for (const [i, sc] of SCENARIOS.entries()) {
    for (const stream of [false, true]) {
      const url = `${fakes.get(sc.format)}${PROVIDER_PATH[sc.format](stream)}`;
      const proxy = sc.advanced ? aiProxyAdvanced(fakes.get(sc.format)!) : aiProxy(sc.format, fakes.get(sc.format)!);
      const plugins = sc.guard ? [GUARD, proxy] : [proxy];
      services.push({
        name: `s${i}-${stream}`, url, read_timeout: 120_000,
        routes: [
          { name: `s${i}-${stream}-none`, paths: [`/b/${i}/${stream}/none`] },
          { name: `s${i}-${stream}-plugins`, paths: [`/b/${i}/${stream}/plugins`], response_buffering: false, plugins },
        ],
      });
    }
  }
  const prefix = mkdtempSync(join(tmpdir(), 'kong-bench-'));
  const gw = new KongGateway({ config: parseDeclarativeConfig({ _format_version: '3.0', services }), servers: pluginServerDefs({ prefix, only: ['ai-proxy', 'ai-proxy-advanced', 'ai-prompt-guard'], nodeArgs: ['--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])] }), workers: 2 });
  await gw.start();
  const { port } = await gw.listen('127.0.0.1', 0);
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const pools = new Map<string, Pool>();
  const pool = (origin: string) => {
    let p = pools.get(origin);
    if (!p) { p = new Pool(origin, { connections: 64, pipelining: 1 }); pools.set(origin, p); }
    return p;
  };
  const target = (i: number, sc: Scenario, stream: boolean, v: Variant) => (v === 'direct'
    ? { pool: pool(fakes.get(sc.format)!), path: PROVIDER_PATH[sc.format](stream) }
    : { pool: pool(gatewayUrl), path: `/b/${i}/${stream}/${v}` });

  try {
    // Warm-up: every path, then memory after warm-up.
    for (const [i, sc] of SCENARIOS.entries()) for (const stream of [false, true]) for (const v of VARIANTS) {
      const t = target(i, sc, stream, v);
      await batch(t.pool, t.path, body(stream), 100, 8);
    }
    const memWarm = await memory(gw);

    console.log(`Benchmark (${quick ? 'quick' : 'full'} mode): ${PER_BATCH} requests per batch x ${ROUNDS} interleaved rounds, streams of ${CHUNKS} chunks, Node ${process.version}, 2 simulated Kong workers`);
    const rows: string[] = [];
    const targets: string[] = [];
    const measured = new Map<string, { added50: number; cpu: number }>();
    for (const [i, sc] of SCENARIOS.entries()) {
      for (const stream of [false, true]) {
        const label = `${sc.name}${stream ? ' stream' : ''}`;
        for (const c of CONCURRENCY) {
          const samples: Record<Variant, Sample[]> = { direct: [], none: [], plugins: [] };
          const seconds: Record<Variant, number> = { direct: 0, none: 0, plugins: 0 };
          let cpu = 0;
          const pdk0 = pdkTotals(gw);
          for (let r = 0; r < ROUNDS; r++) {
            for (const v of VARIANTS) {
              const t = target(i, sc, stream, v);
              const before = v === 'plugins' ? await cpuMicros(gw) : 0;
              const b = await batch(t.pool, t.path, body(stream), PER_BATCH, c);
              if (v === 'plugins') cpu += (await cpuMicros(gw)) - before;
              samples[v].push(...b.samples);
              seconds[v] += b.seconds;
            }
          }
          const n = PER_BATCH * ROUNDS;
          const lat = (v: Variant, p: number) => pct(samples[v].map((s) => s.ms), p);
          const ttfb = (v: Variant) => pct(samples[v].map((s) => s.ttfbMs), 50);
          const added50 = lat('plugins', 50) - lat('none', 50);
          const added99 = lat('plugins', 99) - lat('none', 99);
          const cpuPerReq = cpu / n;
          const pdk1 = pdkTotals(gw);
          const trips = [...pdk1].map(([k, v]) => `${k}=${fmt((v - (pdk0.get(k) ?? 0)) / n, 1)}`).join(' ');
          const rps = (v: Variant) => fmt(n / seconds[v], 0);
          measured.set(`${label}@${c}`, { added50, cpu: cpuPerReq });
          rows.push([label.padEnd(26), String(c).padStart(4), fmt(lat('direct', 50)).padStart(8), fmt(lat('none', 50)).padStart(8), fmt(lat('plugins', 50)).padStart(8),
            fmt(added50).padStart(8), fmt(added99).padStart(8), rps('direct').padStart(7), rps('none').padStart(7), rps('plugins').padStart(7),
            (stream ? fmt(ttfb('plugins') - ttfb('none')) : '-').padStart(8), fmt(cpuPerReq, 0).padStart(8), `  ${trips}`].join(''));
          if (c === 16 && !stream) {
            targets.push(`${label}: plugin-added latency p50 ${fmt(added50)} ms (target <= 0.5: ${verdict(added50 <= 0.5)}), p99 ${fmt(added99)} ms (target <= 3: ${verdict(added99 <= 3)}), plugin-server CPU ${fmt(cpuPerReq, 0)} us/request (target <= 150: ${verdict(cpuPerReq <= 150)})`);
          }
          if (c === 16 && stream) {
            const ttfbAdded = ttfb('plugins') - ttfb('none');
            targets.push(`${label}: time to first chunk added p50 ${fmt(ttfbAdded)} ms (target <= 1: ${verdict(ttfbAdded <= 1)}), plugin-server CPU ${fmt(cpuPerReq, 0)} us/stream`);
          }
        }
      }
    }
    console.log('latency in ms (p50 per variant; +p50/+p99: with plugins minus the no-plugin route), requests per second, +ttfb: time to first chunk added (ms), cpu: plugin-server microseconds per request');
    console.log(`${'scenario'.padEnd(26)}${'conc'.padStart(4)}${'direct'.padStart(8)}${'none'.padStart(8)}${'plugins'.padStart(8)}${'+p50'.padStart(8)}${'+p99'.padStart(8)}${'rps d'.padStart(7)}${'rps n'.padStart(7)}${'rps p'.padStart(7)}${'+ttfb'.padStart(8)}${'cpu'.padStart(8)}  PDK round trips per request`);
    for (const r of rows) console.log(r);
    for (const c of CONCURRENCY) {
      for (const stream of [false, true]) {
        const s = stream ? ' stream' : '';
        const adv = measured.get(`advanced(3)->openai${s}@${c}`);
        const one = measured.get(`openai->openai${s}@${c}`);
        if (adv && one) {
          console.log(`ai-proxy-advanced (3 targets) over ai-proxy${s}, concurrency ${c}: ${fmt(adv.added50 - one.added50)} ms p50, ${fmt(adv.cpu - one.cpu, 0)} us plugin-server CPU per request`);
        }
      }
    }

    // Per stream chunk: the streaming request's CPU beyond the non-streaming one, over its chunks.
    const perChunk: string[] = [];
    for (const [i, sc] of SCENARIOS.entries()) {
      if (sc.guard || sc.advanced) continue;
      const cost = async (stream: boolean) => {
        const t = target(i, sc, stream, 'plugins');
        const before = await cpuMicros(gw);
        await batch(t.pool, t.path, body(stream), PER_BATCH, 16);
        return ((await cpuMicros(gw)) - before) / PER_BATCH;
      };
      const plain = await cost(false);
      const streamed = await cost(true);
      const chunk = (streamed - plain) / CHUNKS;
      perChunk.push(`${sc.name}: ${fmt(chunk, 1)} us per stream chunk (target <= 5: ${verdict(chunk <= 5)})`);
    }

    // Memory: after warm-up, and after SOAK more requests.
    const soakTarget = target(0, SCENARIOS[0]!, false, 'plugins');
    for (let done = 0; done < SOAK; done += 1000) await batch(soakTarget.pool, soakTarget.path, body(false), 1000, 16);
    const memEnd = await memory(gw);
    const growth = ((memEnd.heap - memWarm.heap) / memWarm.heap) * 100;

    console.log('\nTargets (concurrency 16):');
    for (const t of [...targets, ...perChunk]) console.log(`  ${t}`);
    console.log(`  plugin-server memory: heap ${fmt(memWarm.heap / 1048576, 1)} MB after warm-up, ${fmt(memEnd.heap / 1048576, 1)} MB after ${SOAK} more requests (${fmt(growth, 1)}%; target < 10%: ${verdict(growth < 10)}); RSS ${fmt(memWarm.rss / 1048576, 1)} -> ${fmt(memEnd.rss / 1048576, 1)} MB`);
    // Per request on the hot path: once-per-instance calls (reading the Service) round away.
    const maxTrips = Math.round(Math.max(...[...gw.runner.stats.values()].map((s) => s.pdkCalls / Math.max(1, s.events))) * 10) / 10;
    console.log(`  PDK round trips per plugin per request: at most ${fmt(maxTrips, 1)} (target <= 4: ${verdict(maxTrips <= 4)})`);
  } finally {
    for (const p of pools.values()) await p.close();
    await gw.close();
    for (const s of servers) { s.closeAllConnections(); s.close(); }
    rmSync(prefix, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
