// Reads a deck-format declarative file (services, routes, plugins) into the entities the harness routes
// with, as Kong's DB-less mode does: nested routes and plugins, top-level ones referring by name,
// defaults filled as Kong fills them for these entities.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';

export interface ServiceEntity {
  id: string;
  name: string;
  protocol: 'http' | 'https';
  host: string;
  port: number;
  path: string | null;
  connect_timeout: number;
  write_timeout: number;
  read_timeout: number;
  retries: number;
  tls_verify: boolean | null;
}

export interface RouteEntity {
  id: string;
  name: string;
  service: ServiceEntity;
  paths: string[];
  methods: string[] | null;
  hosts: string[] | null;
  strip_path: boolean;
  preserve_host: boolean;
  response_buffering: boolean;
  request_buffering: boolean;
}

export interface PluginEntity {
  id: string;
  name: string;
  instance_name: string | null;
  enabled: boolean;
  route: RouteEntity | null;
  service: ServiceEntity | null;
  /** As written in the file; defaults are filled by the harness from the plugin's Schema. */
  config: Record<string, unknown>;
}

export interface DeclarativeConfig {
  services: ServiceEntity[];
  routes: RouteEntity[];
  plugins: PluginEntity[];
}

type Obj = Record<string, unknown>;

export class DeclarativeConfigError extends Error {}

/** A stable UUID-shaped id from an entity's identity, so plugin ids survive restarts as in a database. */
function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown, where: string): Obj[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObj)) throw new DeclarativeConfigError(`${where}: expected a list of objects`);
  return v;
}

function optStrings(v: unknown, where: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new DeclarativeConfigError(`${where}: expected a list of strings`);
  }
  return v as string[];
}

function num(v: unknown, dflt: number, where: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new DeclarativeConfigError(`${where}: expected an integer`);
  return v;
}

function bool(v: unknown, dflt: boolean, where: string): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new DeclarativeConfigError(`${where}: expected a boolean`);
  return v;
}

function parseService(s: Obj, i: number): ServiceEntity {
  const where = `services[${i}]`;
  const name = typeof s.name === 'string' ? s.name : `service-${i}`;
  let protocol = s.protocol, host = s.host, port = s.port, path = s.path;
  if (typeof s.url === 'string') {
    let u: URL;
    try { u = new URL(s.url); } catch { throw new DeclarativeConfigError(`${where}.url: invalid URL`); }
    protocol = u.protocol.replace(':', '');
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = u.port ? Number(u.port) : undefined;
    path = u.pathname === '/' && !s.url.replace(/^[a-z]+:\/\/[^/]+/, '').startsWith('/') ? null : u.pathname;
  }
  if (protocol === undefined) protocol = 'http';
  if (protocol !== 'http' && protocol !== 'https') throw new DeclarativeConfigError(`${where}.protocol: http or https expected`);
  if (typeof host !== 'string' || host === '') throw new DeclarativeConfigError(`${where}.host: required`);
  return {
    id: typeof s.id === 'string' ? s.id : stableId('service', name),
    name,
    protocol,
    host,
    port: num(port, protocol === 'https' ? 443 : 80, `${where}.port`),
    path: typeof path === 'string' ? path : null,
    connect_timeout: num(s.connect_timeout, 60000, `${where}.connect_timeout`),
    write_timeout: num(s.write_timeout, 60000, `${where}.write_timeout`),
    read_timeout: num(s.read_timeout, 60000, `${where}.read_timeout`),
    retries: num(s.retries, 5, `${where}.retries`),
    tls_verify: s.tls_verify === undefined || s.tls_verify === null ? null : bool(s.tls_verify, false, `${where}.tls_verify`),
  };
}

function parseRoute(r: Obj, service: ServiceEntity, where: string): RouteEntity {
  const name = typeof r.name === 'string' ? r.name : `${service.name}-${where}`;
  const paths = optStrings(r.paths, `${where}.paths`) ?? [];
  for (const p of paths) {
    if (!p.startsWith('/') && !p.startsWith('~')) throw new DeclarativeConfigError(`${where}.paths: "${p}" must start with / or ~`);
  }
  return {
    id: typeof r.id === 'string' ? r.id : stableId('route', name),
    name,
    service,
    paths,
    methods: optStrings(r.methods, `${where}.methods`),
    hosts: optStrings(r.hosts, `${where}.hosts`),
    strip_path: bool(r.strip_path, true, `${where}.strip_path`),
    preserve_host: bool(r.preserve_host, false, `${where}.preserve_host`),
    response_buffering: bool(r.response_buffering, true, `${where}.response_buffering`),
    request_buffering: bool(r.request_buffering, true, `${where}.request_buffering`),
  };
}

function parsePlugin(p: Obj, where: string, route: RouteEntity | null, service: ServiceEntity | null): PluginEntity {
  if (typeof p.name !== 'string') throw new DeclarativeConfigError(`${where}.name: required`);
  if (p.config !== undefined && p.config !== null && !isObj(p.config)) throw new DeclarativeConfigError(`${where}.config: expected an object`);
  const scope = route ? `route:${route.name}` : service ? `service:${service.name}` : 'global';
  return {
    id: typeof p.id === 'string' ? p.id : stableId('plugin', p.name, scope, typeof p.instance_name === 'string' ? p.instance_name : ''),
    name: p.name,
    instance_name: typeof p.instance_name === 'string' ? p.instance_name : null,
    enabled: bool(p.enabled, true, `${where}.enabled`),
    route,
    service,
    config: (p.config as Obj | undefined) ?? {},
  };
}

export function parseDeclarativeConfig(doc: unknown): DeclarativeConfig {
  if (!isObj(doc)) throw new DeclarativeConfigError('declarative config: expected a YAML mapping');
  if (doc._format_version === undefined) throw new DeclarativeConfigError('_format_version: required');
  const services: ServiceEntity[] = [];
  const routes: RouteEntity[] = [];
  const plugins: PluginEntity[] = [];
  const serviceByName = new Map<string, ServiceEntity>();
  const routeByName = new Map<string, RouteEntity>();

  list(doc.services, 'services').forEach((s, i) => {
    const svc = parseService(s, i);
    services.push(svc);
    serviceByName.set(svc.name, svc);
    list(s.routes, `services[${i}].routes`).forEach((r, j) => {
      const where = `services[${i}].routes[${j}]`;
      const route = parseRoute(r, svc, where);
      routes.push(route);
      routeByName.set(route.name, route);
      list(r.plugins, `${where}.plugins`).forEach((p, k) => plugins.push(parsePlugin(p, `${where}.plugins[${k}]`, route, null)));
    });
    list(s.plugins, `services[${i}].plugins`).forEach((p, k) => plugins.push(parsePlugin(p, `services[${i}].plugins[${k}]`, null, svc)));
  });
  list(doc.routes, 'routes').forEach((r, j) => {
    const svc = typeof r.service === 'string' ? serviceByName.get(r.service) : undefined;
    if (!svc) throw new DeclarativeConfigError(`routes[${j}].service: unknown service`);
    const route = parseRoute(r, svc, `routes[${j}]`);
    routes.push(route);
    routeByName.set(route.name, route);
    list(r.plugins, `routes[${j}].plugins`).forEach((p, k) => plugins.push(parsePlugin(p, `routes[${j}].plugins[${k}]`, route, null)));
  });
  list(doc.plugins, 'plugins').forEach((p, k) => {
    const where = `plugins[${k}]`;
    const route = typeof p.route === 'string' ? routeByName.get(p.route) ?? null : null;
    const service = typeof p.service === 'string' ? serviceByName.get(p.service) ?? null : null;
    if (typeof p.route === 'string' && !route) throw new DeclarativeConfigError(`${where}.route: unknown route ${p.route}`);
    if (typeof p.service === 'string' && !service) throw new DeclarativeConfigError(`${where}.service: unknown service ${p.service}`);
    plugins.push(parsePlugin(p, where, route, service));
  });
  return { services, routes, plugins };
}

export function loadDeclarativeConfig(file: string): DeclarativeConfig {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DeclarativeConfigError(`${file}: ${(e as Error).message}`);
  }
  return parseDeclarativeConfig(doc);
}
