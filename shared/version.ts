// The package version, which every plugin reports to Kong as its Version (x.y.z). Read from the
// package.json beside dist/ (the same layout in the Kong image), so there is one place to bump it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
  const v = (pkg as { version?: unknown }).version;
  if (typeof v !== 'string' || !/^\d+\.\d+\.\d+$/.test(v)) throw new Error(`package.json version must be x.y.z, got ${String(v)}`);
  return v;
}

export const PACKAGE_VERSION = readVersion();
