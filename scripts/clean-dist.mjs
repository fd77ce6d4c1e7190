// Removes dist/ before a build so that a deleted source file never survives as a stale plugin.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
