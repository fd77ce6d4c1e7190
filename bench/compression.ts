// `npm run bench:compression`: where gzip pays for the relay's answers, and where its work belongs. For
// chat-completion JSON of growing size: what gzip saves (bytes, packets, transfer time on a LAN and a
// slower link), what it costs on the event loop (gzipSync), what a trip through libuv's thread pool costs
// (async gzip, wall time per call), and the same for inflating a provider's answer. The policy in
// shared/relay/respond.ts (GZIP_MIN_BYTES, GZIP_SYNC_MAX_BYTES) and shared/relay/upstream-client.ts
// (SYNC_INFLATE_MAX_IN) reads off this table. Figures for this machine, printed; no assertion.
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { constants, gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { GZIP_MIN_BYTES, GZIP_SYNC_MAX_BYTES } from '../shared/relay/respond';

const quick = process.argv.includes('--quick');
const BUDGET_MS = quick ? 100 : 600;
const SIZES = [256, 512, 1024, 1400, 2048, 4096, 16384, 65536, 262144, 1048576];
/** Payload bytes per TCP segment at a 1500-byte MTU. */
const MSS = 1448;
const LINKS: Array<[string, number]> = [['1 Gbit/s', 1e9], ['100 Mbit/s', 1e8], ['10 Mbit/s', 1e7]];

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

// An answer as a model writes it: prose of common words (deterministic), in OpenAI's envelope.
const WORDS = 'the of and to in is that for it as with was on be by this are or from at which an have not but they you one all were we their there can been has more if will would about so what when who up out into no time only other than then its also some could these two may first any like new over such our most even after well way many must before here through back years where much your good those being each people'.split(' ');
function answer(bytes: number): Buffer {
  let seed = 7;
  const words: string[] = [];
  let n = 0;
  while (n < bytes - 200) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = WORDS[seed % WORDS.length]!;
    words.push(w);
    n += w.length + 1;
  }
  const body = { id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: Math.round(bytes / 4), total_tokens: 12 + Math.round(bytes / 4) } };
  return Buffer.from(JSON.stringify(body));
}

/** Microseconds per call of a synchronous function, repeated for the time budget. */
function perCall(fn: () => unknown): number {
  for (let i = 0; i < 5; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < BUDGET_MS) {
    fn();
    n++;
  }
  return ((performance.now() - start) * 1000) / n;
}

/** Microseconds of wall time per call of an asynchronous function, one call at a time. */
async function perAsyncCall(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < BUDGET_MS) {
    await fn();
    n++;
  }
  return ((performance.now() - start) * 1000) / n;
}

const packets = (bytes: number) => Math.ceil(bytes / MSS);
const us = (v: number) => v.toFixed(v < 10 ? 1 : 0).padStart(9);

async function main(): Promise<void> {
  console.log(`gzip of chat-completion JSON on this machine (Node ${process.version}); microseconds unless said; budget ${BUDGET_MS} ms per figure`);
  console.log(`${'bytes'.padStart(8)}${'gz L6'.padStart(8)}${'pkts'.padStart(10)}${'sync L1'.padStart(9)}${'sync L6'.padStart(9)}${'async L6'.padStart(9)}${'inflate'.padStart(9)}${'async in'.padStart(9)}  saved on the wire (${LINKS.map(([n]) => n).join(' / ')})`);
  for (const size of SIZES) {
    const body = answer(size);
    const gz = gzipSync(body);
    const gz1 = gzipSync(body, { level: constants.Z_BEST_SPEED });
    const syncL1 = perCall(() => gzipSync(body, { level: constants.Z_BEST_SPEED }));
    const syncL6 = perCall(() => gzipSync(body));
    const asyncL6 = await perAsyncCall(() => gzipAsync(body));
    const inflate = perCall(() => gunzipSync(gz));
    const asyncInflate = await perAsyncCall(() => gunzipAsync(gz));
    const saved = LINKS.map(([, bps]) => us(((body.length - gz.length) * 8 * 1e6) / bps).trim()).join(' / ');
    console.log(`${String(body.length).padStart(8)}${String(gz.length).padStart(8)}${`${packets(body.length)}->${packets(gz.length)}`.padStart(10)}` +
      `${us(syncL1)}${us(syncL6)}${us(asyncL6)}${us(inflate)}${us(asyncInflate)}  ${saved}   (L1 ${gz1.length} bytes)`);
  }
  console.log(`\nThe relay's policy: plain below ${GZIP_MIN_BYTES} bytes (the answer fits one packet either way), level 6 on the ` +
    `event loop up to ${GZIP_SYNC_MAX_BYTES} bytes (where a thread-pool trip costs more wall time than the work), the thread pool above.`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
