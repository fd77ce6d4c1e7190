// `npm run bench:guard`: what ai-prompt-guard costs per request in the plugin server, with 10 allow and
// 10 deny patterns, on a 4 KB and a 256 KB prompt: parsing the body plus the verdict, as the access phase
// does once it has the body. Relative figures for this machine, printed; no assertion.
import { performance } from 'node:perf_hooks';
import { verdict, type GuardRules } from '../shared/prompt-guard/evaluate';
import { PatternSet } from '../shared/prompt-guard/patterns';

const quick = process.argv.includes('--quick');
const BUDGET_MS = quick ? 200 : 1500;

const deny = [
  'ignore (all )?(previous|prior) instructions', 'disregard (the )?system prompt', 'you are now DAN',
  '(?i)jailbreak', 'reveal (your|the) (system )?prompt', 'sudo mode', 'BEGIN PRIVATE KEY',
  '\\b\\d{3}-\\d{2}-\\d{4}\\b', '(?i)password\\s*[:=]', '(a+)+$',
];
const allow = [
  '(?i)weather', '(?i)invoice', '(?i)order status', '(?i)shipping', '(?i)refund', '(?i)product',
  '(?i)account', '(?i)opening hours', '(?i)return policy', '(?i)question',
];

function prompt(bytes: number): string {
  const sentence = 'I have a question about the shipping of my order and the return policy for this product. ';
  return sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes);
}

function measure(fn: () => unknown): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < BUDGET_MS) {
    fn();
    n++;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

const rules: GuardRules = {
  allow: new PatternSet(allow, 'config.allow_patterns'),
  deny: new PatternSet(deny, 'config.deny_patterns'),
  allow_all_conversation_history: false,
  match_all_roles: false,
  normalize: false,
};

console.log(`ai-prompt-guard cost per request, 10 allow + 10 deny patterns (${quick ? 'quick' : 'full'} mode, Node ${process.version})`);
console.log(`${'prompt'.padEnd(10)}${'normalize'.padEnd(11)}${'us/request'.padStart(12)}${'MB/s'.padStart(10)}`);
for (const size of [4 * 1024, 256 * 1024]) {
  const body = JSON.stringify({ messages: [{ role: 'system', content: 'You are a helpful shop assistant.' }, { role: 'user', content: prompt(size) }] });
  for (const normalize of [false, true]) {
    const r = { ...rules, normalize };
    const us = measure(() => {
      const v = verdict(JSON.parse(body) as Record<string, unknown>, r);
      if (v !== undefined) throw new Error(`the benchmark prompt must pass: ${v}`);
    });
    console.log(`${`${size / 1024} KB`.padEnd(10)}${String(normalize).padEnd(11)}${us.toFixed(0).padStart(12)}${(size / us).toFixed(1).padStart(10)}`);
  }
}
