// Logging must never block the plugin server: with a stderr pipe nobody reads (Kong busy), writes return
// at once, the event loop keeps running, the backlog stays bounded (extra lines dropped and counted), and
// once the reader catches up every kept line arrives, in order, followed by the drop notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncLineSink } from '../shared/logging/async-line-sink';

/** A FIFO with a non-blocking reader end and a writer end (the plugin server's stderr as Kong holds it). */
async function withFifo(run: (reader: number, writer: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sink-'));
  const fifo = join(dir, 'stderr');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  try {
    await run(reader, writer);
  } finally {
    closeSync(writer);
    closeSync(reader);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a full pipe does not block the event loop; lines are bounded, ordered, and drops are reported', () => withFifo(async (reader, writer) => {
  const sink = new AsyncLineSink(writer, 256 * 1024);
  const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(100)}\n`;
  let ticks = 0;
  const ticker = setInterval(() => { ticks++; }, 1);
  const t0 = Date.now();
  let kept = 0;
  for (let i = 0; i < 20_000; i++) if (sink.write(line(i))) kept++; // ~2.3 MB, far over a 64 KB pipe
  assert.ok(Date.now() - t0 < 5_000, 'writing returned (a blocking write would hang here forever)');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(ticks > 5, `the event loop kept running while nobody read the pipe (${ticks} ticks)`);
  assert.ok(sink.dropped > 0 && kept + sink.dropped === 20_000);
  assert.ok(sink.backlogBytes <= 256 * 1024);

  // Kong reads again: drain the pipe until the drop notice arrives.
  let text = '';
  const buf = Buffer.alloc(65536);
  const until = Date.now() + 10_000;
  while (!text.includes('log lines dropped') && Date.now() < until) {
    try {
      const n = readSync(reader, buf, 0, buf.length, null);
      text += buf.subarray(0, n).toString();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  clearInterval(ticker);
  const lines = text.split('\n').filter(Boolean);
  const notice = lines.pop()!;
  assert.match(notice, new RegExp(`\\[warn\\] ${sink.dropped} log lines dropped`));
  assert.equal(lines.length, kept);
  assert.deepEqual(lines.slice(0, 3), [0, 1, 2].map((i) => line(i).trimEnd()), 'the first lines, in order');
}));

test('a pipe is written from the event loop, not the thread pool: a line gets out while the pool is busy', () => withFifo(async (reader, writer) => {
  const sink = new AsyncLineSink(writer);
  // Every thread of libuv's pool busy for a while (4 threads by default): a write queued behind
  // these jobs could not run before one of them ends.
  let poolDone = false;
  const jobs = Array.from({ length: 8 }, () => new Promise((r) => pbkdf2('x', 'y', 300_000, 32, 'sha512', r)));
  void Promise.race(jobs).then(() => { poolDone = true; });
  sink.write('while the pool is busy\n');
  const buf = Buffer.alloc(1024);
  let text = '';
  while (!text.includes('\n') && !poolDone) {
    try {
      text += buf.subarray(0, readSync(reader, buf, 0, buf.length, null)).toString();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  assert.equal(text, 'while the pool is busy\n');
  assert.equal(poolDone, false, 'the line was out before any thread of the pool was free');
  await Promise.all(jobs);
}));
