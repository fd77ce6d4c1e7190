// Zero-latency fake providers for the benchmark, one per wire format measured: OpenAI (chat completion
// and SSE), Anthropic Messages (SSE events) and Bedrock ConverseStream (AWS event-stream frames). Each
// answers at once with a fixed body, or a stream of `chunks` content deltas.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { encodeAwsEvent } from '../shared/providers/core/framing';

export type Format = 'openai' | 'anthropic' | 'bedrock';

function wantsStream(req: IncomingMessage, body: string): boolean {
  return req.url?.includes('converse-stream') === true || /"stream"\s*:\s*true/.test(body);
}

function openai(res: ServerResponse, stream: boolean, chunks: number): void {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'bench-model' };
  if (!stream) {
    const body = JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(chunks) }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: chunks, total_tokens: 10 + chunks } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let out = `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`;
  for (let i = 0; i < chunks; i++) out += `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: 'word ' }, finish_reason: null }] })}\n\n`;
  out += `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`;
  out += `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: chunks, total_tokens: 10 + chunks } })}\n\ndata: [DONE]\n\n`;
  res.end(out);
}

function anthropic(res: ServerResponse, stream: boolean, chunks: number): void {
  if (!stream) {
    const body = JSON.stringify({ id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-bench', content: [{ type: 'text', text: 'word '.repeat(chunks) }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: chunks } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  let out = ev('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-bench', content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } });
  out += ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  for (let i = 0; i < chunks; i++) out += ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'word ' } });
  out += ev('content_block_stop', { type: 'content_block_stop', index: 0 });
  out += ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: chunks } });
  out += ev('message_stop', { type: 'message_stop' });
  res.end(out);
}

function bedrock(res: ServerResponse, stream: boolean, chunks: number): void {
  if (!stream) {
    const body = JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'word '.repeat(chunks) }] } }, stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: chunks, totalTokens: 10 + chunks }, metrics: { latencyMs: 1 } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  const frames = [encodeAwsEvent('messageStart', { role: 'assistant' })];
  for (let i = 0; i < chunks; i++) frames.push(encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'word ' } }));
  frames.push(encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }));
  frames.push(encodeAwsEvent('messageStop', { stopReason: 'end_turn' }));
  frames.push(encodeAwsEvent('metadata', { usage: { inputTokens: 10, outputTokens: chunks, totalTokens: 10 + chunks }, metrics: { latencyMs: 1 } }));
  res.end(Buffer.concat(frames));
}

const WRITERS: Record<Format, (res: ServerResponse, stream: boolean, chunks: number) => void> = { openai, anthropic, bedrock };

export async function startFormatFake(format: Format, chunks: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => WRITERS[format](res, wantsStream(req, body), chunks));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
