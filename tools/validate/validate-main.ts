// `npm run validate [-- [--name-prefix <p>] [--all] [file.yaml ...]]`: checks every configuration of our
// plugins in deck files (default: kong/kong.yaml and kong/examples/*.yaml) with the plugins' own code
// (see validate.ts). Stops at the first bad plugin config and names it: file, line, its place (service,
// route, consumer or global), the plugin, and each bad field. Exit 0 when all are valid, 1 otherwise,
// 2 for a usage error. --all reports every bad plugin config instead of the first.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem, validateDeckFile } from './validate';

const ROOT = resolve(__dirname, '../../..');

function defaultFiles(): string[] {
  const files = [join(ROOT, 'kong/kong.yaml')];
  const examples = join(ROOT, 'kong/examples');
  if (existsSync(examples)) {
    for (const f of readdirSync(examples).sort()) if (/\.ya?ml$/.test(f)) files.push(join(examples, f));
  }
  return files;
}

function main(): number {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        'name-prefix': { type: 'string' },
        all: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write('usage: npm run validate -- [--name-prefix <prefix>] [--all] [deck.yaml ...]\n' +
      '  --name-prefix  the image\'s AI_PLUGINS_NAME_PREFIX (default: that variable, else none)\n' +
      '  --all          report every bad plugin config, not only the first\n');
    return 0;
  }
  const namePrefix = args.values['name-prefix'] ?? process.env.AI_PLUGINS_NAME_PREFIX ?? '';
  if (!/^([a-z0-9][a-z0-9-]*)?$/.test(namePrefix)) {
    process.stderr.write(`--name-prefix must be empty or lower-case letters, digits and '-', got '${namePrefix}'\n`);
    return 2;
  }
  const files = args.positionals.length > 0 ? args.positionals.map((f) => resolve(f)) : defaultFiles();
  let bad = 0;
  for (const file of files) {
    const rel = relative(process.cwd(), file);
    const shown = rel === '' || rel.startsWith('..') ? file : rel;
    const report = validateDeckFile(file, { namePrefix });
    for (const p of report.problems) {
      for (const line of formatProblem({ ...p, file: shown })) process.stderr.write(`${line}\n`);
      bad++;
      if (!args.values.all) {
        process.stderr.write(`validate: ${shown}: invalid (stopped at the first bad entry; --all lists every one)\n`);
        return 1;
      }
    }
    const kong = report.notOurs.length > 0 ? `, ${report.notOurs.length} of Kong's own plugins not checked` : '';
    if (report.problems.length === 0) process.stdout.write(`validate: ${shown}: ${report.checked.length} plugin configs valid${kong}\n`);
  }
  return bad > 0 ? 1 : 0;
}

// Exit explicitly: a plugin instance may start in-process services (ai-proxy's loopback relay) that
// would keep the process alive.
const code = main();
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
