// The plugin server loads every file in dist/plugins as a plugin: fail the build if anything else is there.
import { readdirSync } from 'node:fs';
const expected = ['ai-prompt-guard.js', 'ai-proxy-advanced.js', 'ai-proxy.js'];
const found = readdirSync(new URL('../dist/plugins', import.meta.url)).filter((f) => !f.endsWith('.js.map')).sort();
if (JSON.stringify(found) !== JSON.stringify(expected)) {
  console.error(`dist/plugins must hold exactly ${expected.join(', ')}; found ${found.join(', ')}`);
  process.exit(1);
}
