// The benchmark's fake providers in a process of their own (bench/gateway.ts forks it), so that their
// CPU is counted apart from the harness's and the client's. Prints nothing; talks over IPC:
// -> {urls: {openai, anthropic, bedrock}} once listening; <- 'cpu' -> {cpu: microseconds so far}.
import { startFormatFake, type Format } from './format-fakes';
import { cpuMicros } from './process-cpu';

const CHUNKS = Number(process.argv[2] ?? 50);

async function main(): Promise<void> {
  const urls: Partial<Record<Format, string>> = {};
  for (const f of ['openai', 'anthropic', 'bedrock'] as Format[]) urls[f] = (await startFormatFake(f, CHUNKS)).url;
  process.on('message', (m) => { if (m === 'cpu') process.send!({ cpu: cpuMicros() }); });
  process.on('disconnect', () => process.exit(0));
  process.send!({ urls });
}

void main();
