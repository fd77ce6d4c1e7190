// Golden tests for every provider fixture case (spec/fixtures/providers): request translation, response
// translation, streams through the real pipeline (whole, split at every byte offset, byte by byte, and
// cut short), and errors. PROVIDER=a,b limits the run to some providers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getProvider } from '../shared/providers/core/registry';
import { StreamPipeline } from '../shared/providers/core/stream-pipeline';
import type { Provider } from '../shared/providers/core/types';
import { buildRequest } from './support/build-request';
import { loadCases, sseDataValues, type ProviderCase } from './support/provider-case';

function provider(c: ProviderCase): Provider {
  const p = getProvider(c.provider);
  assert.ok(p, `provider ${c.provider} has fixtures but is not in shared/providers/registry.ts`);
  return p;
}

function run(c: ProviderCase, pieces: Buffer[]): { text: string; pipeline: StreamPipeline } {
  const pipeline = new StreamPipeline(provider(c), c.ctx);
  let text = '';
  for (const p of pieces) text += pipeline.write(p);
  text += pipeline.end();
  return { text, pipeline };
}

function checkHeaders(actual: Record<string, string>, expected: Record<string, string>): void {
  for (const [k, v] of Object.entries(expected)) {
    const a = actual[k];
    if (v.startsWith('~')) assert.match(a ?? '', new RegExp(v.slice(1)), `header ${k}`);
    else assert.equal(a, v, `header ${k}`);
  }
}

const cases = loadCases(process.env.PROVIDER);

test('there are provider fixtures', () => {
  assert.ok(cases.length > 0);
});

for (const c of cases) {
  if (c.has('upstream-request.json')) {
    test(`${c.provider}/${c.name}: request`, async () => {
      const req = await buildRequest(provider(c), structuredClone(c.input.request), c.ctx);
      const exp = c.json('upstream-request.json') as { method: string; url: string; headers?: Record<string, string>; body?: unknown };
      assert.equal(req.method, exp.method);
      assert.equal(req.url, exp.url);
      checkHeaders(req.headers, exp.headers ?? {});
      if (exp.body !== undefined) {
        if (typeof exp.body === 'string') assert.equal(req.body, exp.body);
        else assert.deepEqual(JSON.parse(req.body), exp.body);
      }
    });
  }

  if (c.has('response.json')) {
    test(`${c.provider}/${c.name}: response`, () => {
      const out = provider(c).parseResponse(c.json('response.json'), c.ctx);
      assert.deepEqual(out, c.json('expected.json'));
    });
  }

  const bytes = c.stream();
  if (bytes) {
    test(`${c.provider}/${c.name}: stream`, () => {
      const whole = run(c, [bytes]);
      assert.deepEqual(sseDataValues(whole.text), c.expectedStream());
      if (c.input.expected_usage !== undefined) assert.deepEqual(whole.pipeline.usage, c.input.expected_usage);
      assert.ok(whole.text.endsWith('data: [DONE]\n\n'));
    });

    test(`${c.provider}/${c.name}: stream split at every byte offset, and byte by byte`, () => {
      const expected = run(c, [bytes]).text;
      for (let i = 1; i < bytes.length; i++) {
        const got: string = run(c, [bytes.subarray(0, i), bytes.subarray(i)]).text;
        if (got !== expected) assert.equal(got, expected, `split at byte ${i} of ${bytes.length}`);
      }
      const single = run(c, [...bytes].map((b) => Buffer.from([b]))).text;
      assert.equal(single, expected, 'byte by byte');
    });

    test(`${c.provider}/${c.name}: a stream cut short ends with an error event, never silently`, () => {
      const expected = c.expectedStream();
      if (expected.some((v) => typeof v === 'object' && v !== null && 'error' in v)) return; // already an error case
      // Inside an event, and exactly between two events (the last event missing: no end marker seen).
      const trimmed = bytes.toString('latin1').replace(/\s+$/, '');
      // The boundary before the second-to-last event: the last one may be a redundant trailer ([DONE]
      // after Cohere's message-end), but dropping two always loses the provider's end marker.
      const sep = /\r?\n\r?\n/.test(trimmed) ? /\r?\n\r?\n/g : /\r?\n/g;
      const ends = [...trimmed.matchAll(sep)].map((m) => m.index! + m[0].length);
      const cuts = [Math.floor(bytes.length / 2), Math.floor(bytes.length * 0.9)];
      if (c.has('stream.txt') && ends.length >= 2) cuts.push(ends[ends.length - 2]!);
      for (const at of cuts) {
        const values = sseDataValues(run(c, [bytes.subarray(0, at)]).text);
        assert.equal(values.at(-1), '[DONE]');
        const err = values.at(-2) as { error?: { message?: string } } | undefined;
        assert.ok(err?.error?.message, `cut at ${at}/${bytes.length}: expected an error event, got ${JSON.stringify(values.slice(-3))}`);
      }
    });
  }

  if (c.has('error.json')) {
    test(`${c.provider}/${c.name}: error`, () => {
      const e = c.json('error.json') as { status: number; body: unknown; expected: unknown };
      assert.deepEqual(provider(c).parseError(e.status, e.body, c.ctx), e.expected);
    });
  }
}

test('openai stream: an event that needs no change passes byte for byte; one that does is serialised again, on one line', () => {
  const base = cases.find((c) => c.provider === 'openai' && c.stream() !== undefined);
  assert.ok(base, 'an openai stream fixture');
  // The provider's own spacing and key order, and a usage: null the client did not ask for.
  const asSent = '{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "\\u00e9t\\u00e9"}, "finish_reason": null}]}';
  const withUsage = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"b"},"finish_reason":null}],"usage":null}';
  const multiLine = 'data: {"id":"c1","object":"chat.completion.chunk",\ndata: "created":1,"model":"m","choices":[{"index":0,"delta":{"content":"c"},"finish_reason":"stop"}]}\n\n';
  const upstream = Buffer.from(`data: ${asSent}\n\ndata: ${withUsage}\n\n${multiLine}data: [DONE]\n\n`);
  for (const includeUsage of [false, true]) {
    const pipeline: StreamPipeline = new StreamPipeline(provider(base), { ...base.ctx, includeUsage });
    const text: string = pipeline.write(upstream) + pipeline.end();
    const lines: string[] = text.split('\n\n').filter((l) => l !== '');
    assert.equal(lines[0], `data: ${asSent}`, 'untouched');
    if (includeUsage) assert.equal(lines[1], `data: ${withUsage}`, 'the client asked for usage: untouched');
    else assert.deepEqual(JSON.parse(lines[1]!.slice(6)), { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'b' }, finish_reason: null }] });
    assert.ok(!lines[2]!.includes('\n'), 'one data line');
    assert.equal((JSON.parse(lines[2]!.slice(6)) as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content, 'c');
    assert.equal(lines.at(-1), 'data: [DONE]');
  }
});
