// Kong's router for the parts a declarative file uses: prefix paths (plain string prefix, longest first),
// regex paths (`~`, anchored, by regex_priority, before prefixes), methods, hosts; strip_path.
import type { RouteEntity } from './declarative-config';

export interface RouteMatch {
  route: RouteEntity;
  /** The request path with the matched prefix removed (for strip_path). */
  strippedPath: string;
  uriCaptures: { unnamed: string[]; named: Record<string, string> };
}

interface Candidate {
  route: RouteEntity;
  path: string;
  regex: RegExp | undefined;
}

export class Router {
  private readonly candidates: Candidate[];

  constructor(routes: RouteEntity[]) {
    const c: Candidate[] = [];
    for (const route of routes) {
      const paths = route.paths.length ? route.paths : ['/'];
      for (const path of paths) {
        c.push({ route, path, regex: path.startsWith('~') ? new RegExp(`^(?:${path.slice(1)})`) : undefined });
      }
    }
    c.sort((a, b) => {
      if (!!a.regex !== !!b.regex) return a.regex ? -1 : 1;
      return b.path.length - a.path.length;
    });
    this.candidates = c;
  }

  match(method: string, host: string, path: string): RouteMatch | undefined {
    for (const c of this.candidates) {
      if (c.route.methods && !c.route.methods.includes(method)) continue;
      if (c.route.hosts && !c.route.hosts.some((h) => hostMatches(h, host))) continue;
      if (c.regex) {
        const m = c.regex.exec(path);
        if (!m) continue;
        return {
          route: c.route,
          strippedPath: normalise(path.slice(m[0].length)),
          uriCaptures: { unnamed: [m[0], ...m.slice(1).map((x) => x ?? '')], named: { ...(m.groups ?? {}) } },
        };
      }
      if (!path.startsWith(c.path)) continue;
      return { route: c.route, strippedPath: normalise(path.slice(c.path.length)), uriCaptures: { unnamed: [path], named: {} } };
    }
    return undefined;
  }
}

function normalise(rest: string): string {
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}

function hostMatches(pattern: string, host: string): boolean {
  const h = host.replace(/:\d+$/, '').toLowerCase();
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return h.endsWith(p.slice(1));
  if (p.endsWith('.*')) return h.startsWith(p.slice(0, -1));
  return h === p;
}
