// Local stand-ins for Microsoft Entra ID in tests: an authority (HTTPS, as the library insists, with a
// certificate made for the test by openssl) serving the OpenID metadata MSAL reads and a token endpoint
// for the client-credentials grant; and an App Service managed identity endpoint (IDENTITY_ENDPOINT /
// IDENTITY_HEADER). Both record what they were asked and answer what the test scripts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** The PEM file to trust (NODE_EXTRA_CA_CERTS). */
  certFile: string;
  cert: string;
  key: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1, in a temporary directory. */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'entra-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return {
    certFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function send(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(a.body));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

export interface TokenRequest {
  tenant: string;
  form: URLSearchParams;
}

/** An Entra ID authority at https://127.0.0.1:<port>: `/<tenant>/v2.0/.well-known/openid-configuration` and `/<tenant>/oauth2/v2.0/token`. */
export class FakeEntraAuthority {
  readonly tokenRequests: TokenRequest[] = [];
  readonly metadataRequests: string[] = [];
  /** Every path asked, in order (nothing else may be asked). */
  readonly paths: string[] = [];
  /** Default: a fresh token per request, valid for an hour. */
  answer: (r: TokenRequest) => Answer | Promise<Answer> = () => this.token();
  /** Milliseconds the token endpoint waits before answering. */
  delayMs = 0;
  private issued = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly cert: TestCertificate) {}

  /** A successful token answer: `entra-token-<n>`. */
  token(expiresIn = 3599): Answer {
    this.issued++;
    return { status: 200, body: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: `entra-token-${this.issued}` } };
  }

  async listen(): Promise<string> {
    this.server = createHttpsServer({ cert: this.cert.cert, key: this.cert.key }, (req, res) => {
      void this.handle(req, res).catch(() => res.destroy());
    });
    this.url = `https://127.0.0.1:${await listen(this.server)}`;
    return this.url;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    this.paths.push(path);
    const body = await readBody(req);
    const meta = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (meta) {
      const tenant = meta[1]!;
      this.metadataRequests.push(tenant);
      const base = `${this.url}/${tenant}`;
      return send(res, { status: 200, body: {
        issuer: `${base}/v2.0`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`, end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        response_types_supported: ['code', 'id_token', 'token'], subject_types_supported: ['pairwise'], id_token_signing_alg_values_supported: ['RS256'],
      } });
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token && req.method === 'POST') {
      const r = { tenant: token[1]!, form: new URLSearchParams(body) };
      this.tokenRequests.push(r);
      if (this.delayMs > 0) await new Promise((done) => setTimeout(done, this.delayMs));
      return send(res, await this.answer(r));
    }
    send(res, { status: 404, body: { error: 'not_found' } });
  }

  close(): Promise<void> {
    return close(this.server);
  }
}

export interface IdentityRequest {
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/** App Service's managed identity endpoint (what IDENTITY_ENDPOINT points at) on http://127.0.0.1:<port>/msi/token. */
export class FakeAppServiceIdentity {
  readonly requests: IdentityRequest[] = [];
  /** Default: a token named after the identity asked for (`mi-token-<client id or system>-<n>`), valid for an hour. */
  answer: (r: IdentityRequest) => Answer = (r) => this.token(r);
  private issued = 0;
  private server: Server | undefined;
  url = '';

  token(r: IdentityRequest, expiresInS = 3600): Answer {
    this.issued++;
    const who = r.query.get('client_id') ?? 'system';
    return { status: 200, body: {
      access_token: `mi-token-${who}-${this.issued}`, expires_on: String(Math.floor(Date.now() / 1000) + expiresInS),
      resource: r.query.get('resource'), token_type: 'Bearer', client_id: who,
    } };
  }

  async listen(): Promise<string> {
    this.server = createHttpServer((req, res) => {
      void readBody(req).then(() => {
        const r = { query: new URLSearchParams((req.url ?? '').split('?')[1] ?? ''), headers: req.headers };
        this.requests.push(r);
        send(res, this.answer(r));
      }).catch(() => res.destroy());
    });
    this.url = `http://127.0.0.1:${await listen(this.server)}/msi/token`;
    return this.url;
  }

  close(): Promise<void> {
    return close(this.server);
  }
}
