// The benchmark's client in a process of its own (bench/gateway.ts forks it): runs one batch at a time
// and answers with every request's latency and time to first byte, and the CPU the batch cost it. It
// sends Accept-Encoding as the SDKs do (the openai client, browsers), so compression is measured too.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { cpuMicros } from './process-cpu';

export interface BatchRequest {
  origin: string;
  path: string;
  body: string;
  n: number;
  concurrency: number;
}

export interface Sample { ms: number; ttfbMs: number }

export interface BatchResult {
  samples: Sample[];
  seconds: number;
  cpu: number;
}

const pools = new Map<string, Pool>();
const HEADERS = { 'content-type': 'application/json', 'accept-encoding': 'gzip, deflate' };

async function one(pool: Pool, path: string, body: string): Promise<Sample> {
  const t0 = performance.now();
  const res = await pool.request({ method: 'POST', path, body, headers: HEADERS });
  let ttfb = 0;
  for await (const _ of res.body) { if (ttfb === 0) ttfb = performance.now() - t0; }
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
  return { ms: performance.now() - t0, ttfbMs: ttfb || performance.now() - t0 };
}

async function batch(b: BatchRequest): Promise<BatchResult> {
  let pool = pools.get(b.origin);
  if (!pool) {
    pool = new Pool(b.origin, { connections: 64, pipelining: 1 });
    pools.set(b.origin, pool);
  }
  const samples: Sample[] = [];
  let next = 0;
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: b.concurrency }, async () => {
    while (next < b.n) {
      next++;
      samples.push(await one(pool!, b.path, b.body));
    }
  }));
  return { samples, seconds: (performance.now() - t0) / 1000, cpu: cpuMicros() - cpu0 };
}

process.on('message', (m: BatchRequest) => {
  batch(m).then((r) => process.send!({ ok: r }), (e: Error) => process.send!({ error: e.message }));
});
process.on('disconnect', () => process.exit(0));
