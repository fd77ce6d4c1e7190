// `npm run bench:providers`: what translation costs, per provider, measured on the fixture cases in one
// run on this machine: microseconds to build an upstream request, to translate a non-stream response,
// and per streamed chunk the client receives (framing + translation + SSE encoding). Figures are
// relative: compare providers with each other and across commits on the same machine.
import { performance } from 'node:perf_hooks';
import { getProvider } from '../shared/providers/core/registry';
import { StreamPipeline } from '../shared/providers/core/stream-pipeline';
import { routeRequest } from '../shared/providers/core/route-request';
import { loadCases, type ProviderCase } from '../spec/support/provider-case';

const quick = process.argv.includes('--quick');
const BUDGET_MS = quick ? 50 : 400;

/** Runs fn repeatedly for about BUDGET_MS after a warm-up; returns microseconds per call. */
async function measure(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < BUDGET_MS) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

interface Row { provider: string; request?: number; response?: number; chunk?: number; cases: number }

function mean(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

async function main(): Promise<void> {
  const byProvider = new Map<string, ProviderCase[]>();
  for (const c of loadCases(process.env.PROVIDER)) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c]);
  const rows: Row[] = [];
  for (const [name, cases] of byProvider) {
    const p = getProvider(cases[0]!.provider);
    if (!p) continue;
    const req: number[] = [], res: number[] = [], chunk: number[] = [];
    for (const c of cases) {
      if (c.has('upstream-request.json')) req.push(await measure(() => p.buildRequest(routeRequest(c.ctx.routeType, structuredClone(c.input.request)), c.ctx)));
      if (c.has('response.json') && c.has('expected.json')) {
        const body = c.json('response.json');
        res.push(await measure(() => p.parseResponse(body, c.ctx)));
      }
      const bytes = c.stream();
      const expected = c.has('stream.expected.jsonl') ? c.expectedStream() : [];
      if (bytes && !expected.some((v) => typeof v === 'object' && v !== null && 'error' in v)) {
        let chunks = 0;
        const perStream = await measure(() => {
          const pl = new StreamPipeline(p, c.ctx);
          pl.write(bytes);
          pl.end();
          chunks = pl.chunks;
        });
        if (chunks > 0) chunk.push(perStream / chunks);
      }
    }
    rows.push({ provider: name, request: mean(req), response: mean(res), chunk: mean(chunk), cases: cases.length });
  }
  const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1)).padStart(12);
  console.log(`translation cost in microseconds (mean over fixture cases; ${quick ? 'quick' : 'full'} mode, Node ${process.version})`);
  console.log(`${'provider'.padEnd(12)}${'request'.padStart(12)}${'response'.padStart(12)}${'per chunk'.padStart(12)}${'cases'.padStart(8)}`);
  for (const r of rows) console.log(`${r.provider.padEnd(12)}${f(r.request)}${f(r.response)}${f(r.chunk)}${String(r.cases).padStart(8)}`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
