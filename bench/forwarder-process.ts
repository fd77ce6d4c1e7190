// The benchmark's floor for one loopback HTTP hop: a minimal Node forwarder, in a process of its own, that
// passes each request to the target origin (argv[2]) over pooled connections and the answer back, as the
// relay adds one hop between Kong and the provider. IPC: -> {url} once listening; <- 'cpu' -> {cpu}.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { cpuMicros } from './process-cpu';

const pool = new Pool(process.argv[2]!, { connections: 64 });
const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    pool.request({ method: 'POST', path: req.url ?? '/', headers: { 'content-type': 'application/json' }, body: Buffer.concat(parts) }).then(async (up) => {
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
      for await (const c of up.body) res.write(c);
      res.end();
    }, () => { res.writeHead(502); res.end(); });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.on('message', (m) => { if (m === 'cpu') process.send!({ cpu: cpuMicros() }); });
  process.on('disconnect', () => process.exit(0));
  process.send!({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
});
