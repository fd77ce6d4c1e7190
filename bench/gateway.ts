// `npm run bench` (full, for the README) and `npm run bench -- --quick` (about a minute): what the
// plugins add to every call, measured in one run on this machine against the floors of the design,
// measured in the same run:
//  - one RPC round trip (HandleEvent to "ret" on a fixture plugin), and one PDK call on top of it, as
//    Kong's side of the harness makes them within a request (a route with the fixture plugin against the
//    same route without it);
//  - one loopback HTTP hop through a minimal Node forwarder, and the forwarder's CPU per request;
//  - floor = (PDK calls + 1) x round trip + one hop: what any plugin-server design with a relay costs.
// The real plugin servers run under the Kong-side harness; the fake providers, the client and the hop's
// forwarder each run in a process of their own, so the CPU every process spends per request is counted
// apart. The client sends Accept-Encoding as the SDKs do. For each scenario the same client at the same
// concurrency runs three variants, interleaved: the fake provider directly, a harness route without
// plugins, and the route with the plugins. Absolute times on shared machines are noise; the
// differences and ratios within one run are the figures.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDeclarativeConfig } from '../tools/harness/declarative-config';
import { KongGateway } from '../tools/harness/kong-gateway';
import { pluginServerDefs } from '../tools/harness/plugin-server-layout';
import type { Format } from './format-fakes';
import type { BatchRequest, BatchResult, Sample } from './load-client';
import { cpuMicros } from './process-cpu';

const quick = process.argv.includes('--quick');
const CHUNKS = 50;
const PER_BATCH = quick ? 80 : 400;
const ROUNDS = quick ? 2 : 5;
const CONCURRENCY = quick ? [1, 16] : [1, 16, 64];
const SOAK = quick ? 5_000 : 100_000;
// --profile DIR: the plugin servers write V8 CPU profiles there (node --cpu-prof), for `where the time goes`.
const profileDir = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const FIXTURE_PLUGINS = resolve(__dirname, '../../spec/fixtures/harness-plugins');

interface Scenario {
  name: string;
  format: Format;
  plugin: 'ai-proxy' | 'ai-proxy-advanced';
  guard?: boolean;
  /** The Service points at the relay's fixed address (set_target not needed). */
  fixedRelay?: boolean;
  streams: boolean;
}
const SCENARIOS: Scenario[] = [
  { name: 'openai->openai', format: 'openai', plugin: 'ai-proxy', fixedRelay: true, streams: true },
  { name: 'openai->openai set_target', format: 'openai', plugin: 'ai-proxy', streams: false },
  { name: 'openai->anthropic', format: 'anthropic', plugin: 'ai-proxy', fixedRelay: true, streams: true },
  { name: 'openai->bedrock', format: 'bedrock', plugin: 'ai-proxy', fixedRelay: true, streams: true },
  { name: 'guard(4KB)+openai', format: 'openai', plugin: 'ai-proxy', guard: true, fixedRelay: true, streams: false },
  // ai-proxy-advanced, round-robin over three OpenAI-format targets (the balancer, the shared state).
  { name: 'advanced(3)->openai', format: 'openai', plugin: 'ai-proxy-advanced', fixedRelay: true, streams: true },
];
const GUARD_SCENARIO = SCENARIOS.find((sc) => sc.guard)!;
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

// 10 deny and 10 allow patterns, as a real deployment might have.
const GUARD = {
  name: 'ai-prompt-guard',
  config: {
    deny_patterns: ['ignore (all )?previous instructions', 'disregard the system prompt', 'you are now DAN', '(?i)jailbreak', 'reveal your prompt', 'sudo mode', 'BEGIN PRIVATE KEY', '\\d{3}-\\d{2}-\\d{4}', '(?i)password\\s*[:=]', '(a+)+$'],
    allow_patterns: ['(?i)weather', '(?i)invoice', '(?i)order', '(?i)shipping', '(?i)refund', '(?i)product', '(?i)account', '(?i)hours', '(?i)policy', '(?i)question'],
    max_request_body_size: 65536,
  },
};

function body(sc: Scenario, stream: boolean): string {
  const sentence = 'I have a question about the shipping of my order and the return policy for this product. ';
  const content = sc.guard ? sentence.repeat(Math.ceil(4096 / sentence.length)).slice(0, 4096) : 'I have a question about my order.';
  return JSON.stringify({ messages: [{ role: 'user', content }], stream, max_tokens: 256 });
}

/** The plugin servers a scenario's requests go through (the others idle). */
function scenarioServers(sc: Scenario): string[] {
  return sc.guard ? ['ai-prompt-guard', sc.plugin] : [sc.plugin];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** Forks a benchmark process and waits for its first message. */
function start<T>(script: string, args: string[] = []): Promise<{ proc: ChildProcess; first: T }> {
  const proc = fork(resolve(__dirname, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((res, rej) => {
    proc.once('message', (m) => res({ proc, first: m as T }));
    proc.once('exit', (code) => rej(new Error(`${script} exited (${code})`)));
  });
}

/** One request-reply over a child's IPC channel. */
function ask<T>(proc: ChildProcess, msg: unknown): Promise<T> {
  return new Promise((res) => {
    proc.once('message', (m) => res(m as T));
    proc.send(msg as never);
  });
}

async function childCpu(proc: ChildProcess): Promise<number> {
  return (await ask<{ cpu: number }>(proc, 'cpu')).cpu;
}

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
  });
}

interface ProcStatus { Process: { CpuUserMicros: number; CpuSystemMicros: number; RssBytes: number; HeapUsedBytes: number } }

/** Each plugin server's CPU so far, by name. */
async function serverCpu(gw: KongGateway): Promise<Map<string, number>> {
  const all = await gw.serverStatuses();
  return new Map(all.map((s) => [s.server, (s.status as ProcStatus).Process.CpuUserMicros + (s.status as ProcStatus).Process.CpuSystemMicros]));
}

/** Live memory: the plugin servers run with --expose-gc and collect before they report. */
async function memory(gw: KongGateway): Promise<{ rss: number; heap: number }> {
  const all = await gw.serverStatuses({ gc: true });
  return all.reduce((t, s) => ({ rss: t.rss + (s.status as ProcStatus).Process.RssBytes, heap: t.heap + (s.status as ProcStatus).Process.HeapUsedBytes }), { rss: 0, heap: 0 });
}

type Batch = (r: BatchRequest) => Promise<BatchResult>;

interface Floors { roundTripMs: number; pdkCallMs: number; roundTripCpu: number; pdkCallCpu: number; hopMs: number; hopCpu: number; bodyReadCpu: number }

/**
 * The floors, measured a round at a time among the scenarios' own rounds at concurrency 1:
 *  - RPC as Kong makes the calls within a request: routes to the fake provider with the rpc-floor fixture
 *    plugin (HandleEvent to ret, with 0 or 4 PDK calls in between) against the same route without it,
 *    and the fixture reading the guard scenario's 4 KB body (HandleEvent, get_raw_body, ret);
 *  - one HTTP hop: the fake provider through the minimal forwarder against the fake provider directly,
 *    and the forwarder's CPU per request.
 */
class FloorMeter {
  private readonly ms: Record<string, number[]> = { none: [], '0': [], '4': [], body: [], direct: [], forwarded: [] };
  private readonly cpu: Record<string, number> = { '0': 0, '4': 0, body: 0, forwarder: 0 };
  private rounds = 0;

  constructor(private readonly gw: KongGateway, private readonly gatewayUrl: string, private readonly batch: Batch,
    private readonly forwarder: { proc: ChildProcess; url: string }, private readonly providerUrl: string, private readonly body: string,
    private readonly promptBody: string) {}

  async round(): Promise<void> {
    for (const v of ['none', '0', '4', 'body']) {
      const s0 = await serverCpu(this.gw);
      const b = await this.batch({ origin: this.gatewayUrl, path: `/floor/${v}`, body: v === 'body' ? this.promptBody : this.body, n: PER_BATCH, concurrency: 1 });
      const s1 = await serverCpu(this.gw);
      this.ms[v]!.push(...b.samples.map((x) => x.ms));
      if (v !== 'none') this.cpu[v]! += (s1.get('rpc-floor') ?? 0) - (s0.get('rpc-floor') ?? 0);
    }
    for (const v of ['direct', 'forwarded']) {
      const c0 = await childCpu(this.forwarder.proc);
      const b = await this.batch({ origin: v === 'direct' ? this.providerUrl : this.forwarder.url, path: '/v1/chat/completions', body: this.body, n: PER_BATCH, concurrency: 1 });
      if (v === 'forwarded') this.cpu.forwarder! += (await childCpu(this.forwarder.proc)) - c0;
      this.ms[v]!.push(...b.samples.map((x) => x.ms));
    }
    this.rounds++;
  }

  get floors(): Floors {
    const n = this.rounds * PER_BATCH;
    const p50 = (v: string) => pct(this.ms[v]!, 50);
    return {
      roundTripMs: p50('0') - p50('none'), pdkCallMs: (p50('4') - p50('0')) / 4,
      roundTripCpu: this.cpu['0']! / n, pdkCallCpu: (this.cpu['4']! - this.cpu['0']!) / (4 * n),
      hopMs: p50('forwarded') - p50('direct'), hopCpu: this.cpu.forwarder! / n, bodyReadCpu: this.cpu.body! / n,
    };
  }
}

/** One scenario at one concurrency: what its rounds gathered. */
interface Cell {
  i: number;
  sc: Scenario;
  stream: boolean;
  c: number;
  samples: Record<Variant, Sample[]>;
  seconds: Record<Variant, number>;
  cpu: { client: number; harness: number; fakes: number; servers: Map<string, number> };
  /** Per plugin: HandleEvent and PDK calls during the plugins variant's batches. */
  calls: Map<string, { events: number; pdkCalls: number }>;
}

async function main(): Promise<void> {
  const fakes = await start<{ urls: Record<Format, string> }>('fakes-process.js', [String(CHUNKS)]);
  const urls = fakes.first.urls;
  const forwarder = await start<{ url: string }>('forwarder-process.js', [urls.openai]);
  const clientProc = fork(resolve(__dirname, 'load-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const batch = (r: BatchRequest) => ask<{ ok?: BatchResult; error?: string }>(clientProc, r).then((x) => {
    if (!x.ok) throw new Error(x.error);
    return x.ok;
  });

  // Each relay's fixed address (AI_GATEWAY_RELAY_LISTEN_<PLUGIN>), where the AI routes' Services point.
  const relayPorts = { 'ai-proxy': await freePort(), 'ai-proxy-advanced': await freePort() };
  const services = [];
  for (const [i, sc] of SCENARIOS.entries()) {
    for (const stream of sc.streams ? [false, true] : [false]) {
      const fake = urls[sc.format];
      const proxy = sc.plugin === 'ai-proxy-advanced' ? aiProxyAdvanced(fake) : aiProxy(sc.format, fake);
      const plugins = sc.guard ? [GUARD, proxy] : [proxy];
      services.push({
        name: `s${i}-${stream}-none`, url: `${fake}${PROVIDER_PATH[sc.format](stream)}`, read_timeout: 120_000,
        routes: [{ name: `s${i}-${stream}-none`, paths: [`/b/${i}/${stream}/none`] }],
      });
      services.push({
        // The AI routes' Service: the relay's fixed address (no set_target), or a harmless one.
        // Long enough for ai-proxy-advanced's three attempts, so that it has no timeouts to set.
        name: `s${i}-${stream}-plugins`, url: sc.fixedRelay ? `http://127.0.0.1:${relayPorts[sc.plugin]}` : 'http://127.0.0.1:65535', read_timeout: 200_000,
        routes: [{ name: `s${i}-${stream}-plugins`, paths: [`/b/${i}/${stream}/plugins`], response_buffering: false, plugins }],
      });
    }
  }
  // The RPC floor's routes: to the fake provider, without plugins, and with the rpc-floor fixture plugin.
  services.push({ name: 'floor', url: `${urls.openai}/v1/chat/completions`, routes: [
    { name: 'floor-none', paths: ['/floor/none'] },
    ...[0, 4].map((calls) => ({ name: `floor-${calls}`, paths: [`/floor/${calls}`], plugins: [{ name: 'rpc-floor', config: { pdk_calls: calls } }] })),
    { name: 'floor-body', paths: ['/floor/body'], plugins: [{ name: 'rpc-floor', config: { read_body: true } }] },
  ] });
  const prefix = mkdtempSync(join(tmpdir(), 'kong-bench-'));
  const nodeArgs = ['--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const servers = [
    ...pluginServerDefs({ prefix, only: ['ai-proxy', 'ai-proxy-advanced', 'ai-prompt-guard'], nodeArgs, env: {
      AI_GATEWAY_RELAY_LISTEN_AI_PROXY: `127.0.0.1:${relayPorts['ai-proxy']}`, AI_GATEWAY_RELAY_LISTEN_AI_PROXY_ADVANCED: `127.0.0.1:${relayPorts['ai-proxy-advanced']}`,
    } }),
    ...pluginServerDefs({ prefix, only: ['rpc-floor'], pluginsDir: FIXTURE_PLUGINS }),
  ];
  const gw = new KongGateway({ config: parseDeclarativeConfig({ _format_version: '3.0', services }), servers, workers: 2 });
  await gw.start();
  const { port } = await gw.listen('127.0.0.1', 0);
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const target = (i: number, sc: Scenario, stream: boolean, v: Variant) => (v === 'direct'
    ? { origin: urls[sc.format], path: PROVIDER_PATH[sc.format](stream) }
    : { origin: gatewayUrl, path: `/b/${i}/${stream}/${v}` });

  try {
    // Warm-up: every path, the floors' too (instances started in both workers, connections pooled, and
    // enough requests for V8 to have optimised the hot code: a few thousand per process).
    const warm = quick ? 400 : 1000;
    for (const [i, sc] of SCENARIOS.entries()) for (const stream of sc.streams ? [false, true] : [false]) for (const v of VARIANTS) {
      await batch({ ...target(i, sc, stream, v), body: body(sc, stream), n: warm, concurrency: 8 });
    }
    for (const path of ['/floor/none', '/floor/0', '/floor/4', '/floor/body']) await batch({ origin: gatewayUrl, path, body: body(SCENARIOS[0]!, false), n: warm, concurrency: 8 });
    await batch({ origin: forwarder.first.url, path: '/v1/chat/completions', body: body(SCENARIOS[0]!, false), n: 4 * warm, concurrency: 8 });
    const memWarm = await memory(gw);

    // Every round runs every scenario's variants, and at concurrency 1 the floors' too: whatever the
    // shared machine does meanwhile falls on all of them alike.
    const meter = new FloorMeter(gw, gatewayUrl, batch, { proc: forwarder.proc, url: forwarder.first.url }, urls.openai, body(SCENARIOS[0]!, false), body(GUARD_SCENARIO, false));
    const cells: Cell[] = [];
    for (const c of CONCURRENCY) for (const [i, sc] of SCENARIOS.entries()) for (const stream of sc.streams ? [false, true] : [false]) {
      cells.push({ i, sc, stream, c, samples: { direct: [], none: [], plugins: [] }, seconds: { direct: 0, none: 0, plugins: 0 },
        cpu: { client: 0, harness: 0, fakes: 0, servers: new Map() }, calls: new Map() });
    }
    for (const c of CONCURRENCY) {
      for (let r = 0; r < ROUNDS; r++) {
        if (c === 1) await meter.round();
        // Each round starts at another scenario: whichever runs first after a pause (the floors, the other
        // concurrency) pays for it, so no scenario always does.
        const these = cells.filter((x) => x.c === c);
        const shift = (r * 3) % these.length;
        for (const cell of [...these.slice(shift), ...these.slice(0, shift)]) {
          for (const v of VARIANTS) {
            const t = target(cell.i, cell.sc, cell.stream, v);
            const plugins = v === 'plugins';
            const calls0 = new Map([...gw.runner.stats].map(([k, x]) => [k, { ...x }]));
            const [s0, f0, h0] = plugins ? [await serverCpu(gw), await childCpu(fakes.proc), cpuMicros()] : [undefined, 0, 0];
            const b = await batch({ ...t, body: body(cell.sc, cell.stream), n: PER_BATCH, concurrency: c });
            if (plugins) {
              const h1 = cpuMicros();
              const f1 = await childCpu(fakes.proc);
              const s1 = await serverCpu(gw);
              cell.cpu.client += b.cpu;
              cell.cpu.harness += h1 - h0;
              cell.cpu.fakes += f1 - f0;
              for (const [k, x] of s1) cell.cpu.servers.set(k, (cell.cpu.servers.get(k) ?? 0) + x - (s0!.get(k) ?? 0));
              for (const [k, x] of gw.runner.stats) {
                const before = calls0.get(k) ?? { events: 0, pdkCalls: 0 };
                const sum = cell.calls.get(k) ?? { events: 0, pdkCalls: 0 };
                cell.calls.set(k, { events: sum.events + x.events - before.events, pdkCalls: sum.pdkCalls + x.pdkCalls - before.pdkCalls });
              }
            }
            cell.samples[v].push(...b.samples);
            cell.seconds[v] += b.seconds;
          }
        }
      }
    }
    const rpc = meter.floors;
    const { hopMs, hopCpu } = rpc;
    console.log(`Benchmark (${quick ? 'quick' : 'full'} mode): ${PER_BATCH} requests per batch x ${ROUNDS} interleaved rounds, streams of ${CHUNKS} chunks, Node ${process.version}, 2 simulated Kong workers`);
    console.log(`Floors measured in this run: RPC round trip (HandleEvent to ret) ${fmt(rpc.roundTripMs, 3)} ms p50 and ${fmt(rpc.roundTripCpu, 0)} us plugin-server CPU; ` +
      `one PDK call ${fmt(rpc.pdkCallMs, 3)} ms and ${fmt(rpc.pdkCallCpu, 0)} us; reading a 4 KB body (HandleEvent, get_raw_body, ret) ${fmt(rpc.bodyReadCpu, 0)} us; one loopback HTTP hop (Node forwarder) ${fmt(hopMs, 3)} ms p50 and ${fmt(hopCpu, 0)} us of the forwarder's CPU (concurrency 1)`);

    interface Measured { added50: number; added99: number; ttfbAdded: number; cpu: Record<string, number>; rpcCpu: Record<string, number>; pdk: number; floor: number }
    const measured = new Map<string, Measured>();
    const rows: string[] = [];
    const ordered = [...cells].sort((a, b) => a.i - b.i || Number(a.stream) - Number(b.stream) || a.c - b.c);
    for (const { sc, stream, c, samples, seconds, cpu, calls: counted } of ordered) {
      const label = `${sc.name}${stream ? ' stream' : ''}`;
      const n = PER_BATCH * ROUNDS;
      const lat = (v: Variant, p: number) => pct(samples[v].map((s) => s.ms), p);
      const ttfb = (v: Variant) => pct(samples[v].map((s) => s.ttfbMs), 50);
      const added50 = lat('plugins', 50) - lat('none', 50);
      const added99 = lat('plugins', 99) - lat('none', 99);
      // Per plugin: events (HandleEvent calls) and PDK calls per request, from the harness's counters.
      const calls = new Map([...counted].map(([k, v]) => [k, { events: v.events / n, pdk: v.pdkCalls / n }]));
      const own = scenarioServers(sc);
      const ownCpu = own.reduce((t, k) => t + (cpu.servers.get(k) ?? 0), 0) / n;
      const pdk = calls.get(sc.plugin)?.pdk ?? 0;
      const allPdk = own.reduce((t, k) => t + (calls.get(k)?.pdk ?? 0), 0);
      // What the RPC itself costs the plugin servers (the floor's CPU), and what is left: the plugins' own work.
      const rpcOf = (k: string) => (calls.get(k)?.events ?? 0) * rpc.roundTripCpu + (calls.get(k)?.pdk ?? 0) * rpc.pdkCallCpu;
      const rpcCpu = own.reduce((t, k) => t + rpcOf(k), 0);
      const floor = (allPdk + 1) * rpc.roundTripMs + hopMs;
      const perServer = Object.fromEntries(own.map((k) => [k, (cpu.servers.get(k) ?? 0) / n]));
      const perPluginRpc = Object.fromEntries(own.map((k) => [k, rpcOf(k)]));
      measured.set(`${label}@${c}`, { added50, added99, ttfbAdded: ttfb('plugins') - ttfb('none'), cpu: { ...perServer, all: ownCpu }, rpcCpu: perPluginRpc, pdk, floor });
      const rps = (v: Variant) => fmt(n / seconds[v], 0);
      rows.push([label.padEnd(30), String(c).padStart(4), fmt(lat('direct', 50)).padStart(8), fmt(lat('none', 50)).padStart(8), fmt(lat('plugins', 50)).padStart(8),
        fmt(added50).padStart(8), fmt(added99).padStart(8), fmt(floor).padStart(7), fmt(added50 / floor).padStart(7),
        rps('none').padStart(7), rps('plugins').padStart(7),
        (stream ? fmt(ttfb('plugins') - ttfb('none')) : '-').padStart(8), fmt(allPdk, 1).padStart(5),
        fmt(ownCpu, 0).padStart(8), fmt(rpcCpu, 0).padStart(6), fmt(cpu.harness / n, 0).padStart(8), fmt(cpu.client / n, 0).padStart(7), fmt(cpu.fakes / n, 0).padStart(7)].join(''));
    }
    console.log('latency in ms (p50 per variant; +p50/+p99: with plugins minus the no-plugin route; floor: (PDK calls + 1) x RPC round trip + one hop; x floor: +p50 / floor),');
    console.log("requests per second, +ttfb: time to first chunk added (ms), PDK round trips per request; CPU in microseconds per request of each process: the scenario's plugin servers");
    console.log("(of which rpc: what its HandleEvent and PDK calls cost at the floor's price), the harness (Kong's side), the client, the fake providers");
    console.log(`${'scenario'.padEnd(30)}${'conc'.padStart(4)}${'direct'.padStart(8)}${'none'.padStart(8)}${'plugins'.padStart(8)}${'+p50'.padStart(8)}${'+p99'.padStart(8)}${'floor'.padStart(7)}${'x floor'.padStart(7)}${'rps n'.padStart(7)}${'rps p'.padStart(7)}${'+ttfb'.padStart(8)}${'PDK'.padStart(5)}${'servers'.padStart(8)}${'rpc'.padStart(6)}${'harness'.padStart(8)}${'client'.padStart(7)}${'fakes'.padStart(7)}`);
    for (const r of rows) console.log(r);
    for (const c of CONCURRENCY) {
      const adv = measured.get(`advanced(3)->openai@${c}`);
      const one = measured.get(`openai->openai@${c}`);
      if (adv && one) console.log(`ai-proxy-advanced (3 targets) over ai-proxy (both at their relay's fixed address), concurrency ${c}: ${fmt(adv.added50 - one.added50)} ms p50, ${fmt(adv.cpu.all! - one.cpu.all!, 0)} us plugin-server CPU per request`);
    }

    // Per stream chunk: the streaming request's CPU beyond the non-streaming one, over its chunks.
    const perChunk: string[] = [];
    for (const [i, sc] of SCENARIOS.entries()) {
      if (!sc.streams || sc.plugin !== 'ai-proxy') continue;
      // Interleaved rounds of the same request without and with streaming, at concurrency 16.
      const cpuOf = { plain: 0, streamed: 0 };
      for (let r = 0; r < ROUNDS * 2; r++) {
        for (const stream of [false, true]) {
          const before = await serverCpu(gw);
          await batch({ ...target(i, sc, stream, 'plugins'), body: body(sc, stream), n: PER_BATCH, concurrency: 16 });
          const after = await serverCpu(gw);
          cpuOf[stream ? 'streamed' : 'plain'] += (after.get('ai-proxy') ?? 0) - (before.get('ai-proxy') ?? 0);
        }
      }
      const plain = cpuOf.plain / (ROUNDS * 2 * PER_BATCH);
      const streamed = cpuOf.streamed / (ROUNDS * 2 * PER_BATCH);
      const chunk = (streamed - plain) / CHUNKS;
      perChunk.push(`${sc.name}: ${fmt(chunk, 1)} us per stream chunk (target <= 5: ${verdict(chunk <= 5)})`);
    }

    // Memory: after warm-up, and after SOAK more requests.
    const soak = target(0, SCENARIOS[0]!, false, 'plugins');
    for (let done = 0; done < SOAK; done += 1000) await batch({ ...soak, body: body(SCENARIOS[0]!, false), n: 1000, concurrency: 16 });
    const memEnd = await memory(gw);
    const growth = ((memEnd.heap - memWarm.heap) / memWarm.heap) * 100;

    const m = (k: string) => measured.get(k)!;
    const c1 = m('openai->openai@1');
    const c16 = m('openai->openai@16');
    const st1 = m('openai->openai stream@1');
    const guard = m('guard(4KB)+openai@1');
    const noFixed = m('openai->openai set_target@1');
    console.log('\nTargets:');
    console.log(`  openai->openai, concurrency 1: added p50 ${fmt(c1.added50)} ms, ${fmt(c1.added50 / c1.floor)} x the floor of ${fmt(c1.floor)} ms (target <= 1.3: ${verdict(c1.added50 <= 1.3 * c1.floor)})`);
    const cpuFloor = (c1.rpcCpu['ai-proxy'] ?? 0) + hopCpu;
    console.log(`  openai->openai plugin-server CPU: ${fmt(c1.cpu.all!, 0)} us per request at concurrency 1 (target <= 600: ${verdict(c1.cpu.all! <= 600)}), ${fmt(c16.cpu.all!, 0)} us at 16 (target <= 450: ${verdict(c16.cpu.all! <= 450)}); ` +
      `CPU floor at concurrency 1 (its RPC at the floor's price + the forwarder's hop) ${fmt(cpuFloor, 0)} us, ${fmt(c1.cpu.all! / cpuFloor)} x`);
    console.log(`  time to first chunk added ${fmt(st1.ttfbAdded)} ms vs added p50 ${fmt(c1.added50)} ms (target <= +0.2: ${verdict(st1.ttfbAdded <= c1.added50 + 0.2)})`);
    for (const p of perChunk) console.log(`  ${p}`);
    const guardCpu = guard.cpu['ai-prompt-guard'] ?? NaN;
    const guardOwn = guardCpu - rpc.bodyReadCpu;
    console.log(`  ai-prompt-guard, 20 patterns, 4 KB prompt: ${fmt(guardOwn, 0)} us plugin-server CPU per request beyond reading the body (target <= 100: ${verdict(guardOwn <= 100)}); ` +
      `${fmt(guardCpu, 0)} us in all, of which ${fmt(rpc.bodyReadCpu, 0)} us the floor of a plugin that reads the same body (HandleEvent, get_raw_body, ret)`);
    console.log(`  plugin-server memory: heap ${fmt(memWarm.heap / 1048576, 1)} MB after warm-up, ${fmt(memEnd.heap / 1048576, 1)} MB after ${SOAK} more requests (${fmt(growth, 1)}%; target < 10%: ${verdict(growth < 10)}); RSS ${fmt(memWarm.rss / 1048576, 1)} -> ${fmt(memEnd.rss / 1048576, 1)} MB`);
    console.log(`  PDK round trips per request, ai-proxy with statistics: ${fmt(c1.pdk, 1)} with the relay's fixed address (target <= 3: ${verdict(c1.pdk <= 3)}), ${fmt(noFixed.pdk, 1)} without (target <= 4: ${verdict(noFixed.pdk <= 4)})`);
  } finally {
    await gw.close();
    for (const p of [fakes.proc, forwarder.proc, clientProc]) p.kill();
    rmSync(prefix, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
