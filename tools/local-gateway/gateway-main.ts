// `npm start`: the local development gateway. It serves the declarative file (KONG_DECLARATIVE_CONFIG,
// default kong/kong.yaml) on KONG_PROXY_LISTEN (default 127.0.0.1:8000) through the real plugin
// servers, with a built-in fake OpenAI-compatible provider on FAKE_LLM_LISTEN (default 127.0.0.1:8009,
// "off" to disable) so the default configuration answers without any provider key. SIGHUP reloads the
// declarative file as `kong reload` would (a new generation of plugin servers; the old one drains).
// Development and tests only: production runs real Kong (see kong/ and docker-compose.yml).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDeclarativeConfig } from '../harness/declarative-config';
import { KongGateway } from '../harness/kong-gateway';
import { pluginServerDefs } from '../harness/plugin-server-layout';
import { FakeOpenAI } from './fake-openai';

/** An nginx size ("4m", "512k", "0"): bytes. */
function nginxSize(v: string, what: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v.trim());
  if (!m) throw new Error(`${what} must look like 4m, 512k or 0, got "${v}"`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function hostPort(v: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v.trim());
  if (!m) throw new Error(`${what} must look like 127.0.0.1:8000, got "${v}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

async function main(): Promise<void> {
  const root = resolve(__dirname, '../../..');
  const file = process.env.KONG_DECLARATIVE_CONFIG ?? join(root, 'kong/kong.yaml');
  const listen = hostPort(process.env.KONG_PROXY_LISTEN ?? '127.0.0.1:8000', 'KONG_PROXY_LISTEN');
  const fakeListen = process.env.FAKE_LLM_LISTEN ?? '127.0.0.1:8009';
  const prefix = mkdtempSync(join(tmpdir(), 'kong-prefix-'));
  const stderr = (o: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...o })}\n`);

  let fake: FakeOpenAI | undefined;
  if (fakeListen !== 'off') {
    const f = hostPort(fakeListen, 'FAKE_LLM_LISTEN');
    fake = new FakeOpenAI({ chunkDelayMs: 30 });
    await fake.listen(f.port, f.host);
    stderr({ level: 'info', msg: `fake LLM provider (development only) on ${fake.url}` });
  }

  const gateway = new KongGateway({
    config: loadDeclarativeConfig(file),
    servers: pluginServerDefs({ prefix }),
    workers: Number(process.env.KONG_NGINX_WORKER_PROCESSES ?? 2),
    // As our Kong image sets it (kong/Dockerfile): Kong's own default, 0, is unlimited.
    clientMaxBodySize: nginxSize(process.env.KONG_NGINX_HTTP_CLIENT_MAX_BODY_SIZE ?? '4m', 'KONG_NGINX_HTTP_CLIENT_MAX_BODY_SIZE'),
    clientBodyBufferSize: nginxSize(process.env.KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE ?? '4m', 'KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE'),
    onRequestLog: (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`),
    onKongLog: (level, message) => stderr({ level, source: 'kong', msg: message }),
    onServerOutput: (l) => stderr({ level: 'info', source: `${l.server}:${l.pid}`, msg: l.line }),
  });
  await gateway.start();
  const addr = await gateway.listen(listen.host, listen.port);
  stderr({ level: 'info', msg: `gateway (development harness, not Kong) listening on http://${addr.host}:${addr.port}, config ${file}` });

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await gateway.close();
    await fake?.close();
    rmSync(prefix, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGHUP', () => {
    stderr({ level: 'info', msg: `SIGHUP: reloading ${file}` });
    let config;
    try {
      config = loadDeclarativeConfig(file);
    } catch (e) {
      stderr({ level: 'error', msg: `reload refused, the running configuration stays: ${(e as Error).message}` });
      return;
    }
    gateway.reload(config).then(
      () => stderr({ level: 'info', msg: 'reloaded: new plugin servers serve; the old ones exit once idle' }),
      (e: Error) => stderr({ level: 'error', msg: `reload failed: ${e.message}` }),
    );
  });
}

main().catch((e: Error) => {
  process.stderr.write(`gateway failed to start: ${e.message}\n`);
  process.exit(1);
});
