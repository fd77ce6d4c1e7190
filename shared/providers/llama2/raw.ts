// Llama 2 in `raw` format: the conversation rendered with Llama-2-chat's prompt template and sent to a
// Text Generation Inference style endpoint ({inputs, parameters}); the answer is the text after the last
// [/INST]. The TGI request, response and token stream are tgi/'s.
//
// Template (Meta's llama repository, `chat_completion`): every user turn is wrapped in
// `<s>[INST] ... [/INST]`, the system prompt sits inside the first one between `<<SYS>>\n` and
// `\n<</SYS>>\n\n`, and every assistant answer follows its turn and ends with `</s>`.
// Differences from Kong: Kong's template separates the parts with single spaces and closes the system
// block of completions with `<<SYS>>`; completions get a hard-coded "You are a helpful assistant."
// system prompt there. We render Meta's template, and a completion prompt as one user turn.
import type { ChatCompletion, ChatMessage, ChatRequest, TextCompletion, Usage } from '../../openai/types';
import { isObject } from '../core/json';
import { openaiUsage } from '../core/native-usage';
import { TranslationError, type GenerationRoute, type TargetContext } from '../core/types';
import { singlePrompt } from '../openai-format/request-fields';
import { wholeAnswer } from '../openai-format/answer';
import { parseTgiGeneration } from '../tgi/response';

function textOf(m: ChatMessage): string {
  if (m.content === null || m.content === undefined) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.map((part) => {
    if (part.type === 'text' && typeof part.text === 'string') return part.text;
    throw new TranslationError(`llama2 raw format takes text only, not content parts of type '${part.type}'`);
  }).join('\n');
}

/** A chat in Llama-2-chat's prompt format. */
export function llama2ChatPrompt(body: ChatRequest): string {
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    throw new TranslationError('llama2 raw format has no tool calling; use llama2_format openai or ollama');
  }
  const system = body.messages.filter((m) => m.role === 'system' || m.role === 'developer').map(textOf).join('\n');
  let prompt = '';
  let first = true;
  let pending: string[] = [];
  const turn = (): string => {
    const sys = first && system !== '' ? `<<SYS>>\n${system}\n<</SYS>>\n\n` : '';
    first = false;
    const user = pending.join('\n\n').trim();
    pending = [];
    return `<s>[INST] ${sys}${user} [/INST]`;
  };
  for (const m of body.messages) {
    if (m.role === 'system' || m.role === 'developer') continue;
    if (m.role === 'assistant') {
      if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
        throw new TranslationError('llama2 raw format has no tool calling; use llama2_format openai or ollama');
      }
      prompt += `${turn()} ${textOf(m).trim()} </s>`;
    } else if (m.role === 'tool') {
      throw new TranslationError('llama2 raw format has no tool calling; use llama2_format openai or ollama');
    } else {
      pending.push(textOf(m));
    }
  }
  if (pending.length > 0 || prompt === '') prompt += turn();
  return prompt;
}

/** A legacy completion prompt as one instruction turn. */
export function llama2CompletionPrompt(prompt: string): string {
  return `<s>[INST] ${prompt.trim()} [/INST]`;
}

export function llama2Inputs(req: GenerationRoute, ctx: TargetContext): string {
  return req.routeType === 'llm/v1/completions'
    ? llama2CompletionPrompt(singlePrompt(req.body.prompt, ctx.provider))
    : llama2ChatPrompt(req.body);
}

/** The answer: the text after the last [/INST] (for servers that echo the prompt), trimmed, as Kong does. */
export function llama2Answer(generated: string): string {
  const at = generated.lastIndexOf('[/INST]');
  return (at >= 0 ? generated.slice(at + '[/INST]'.length) : generated).trim();
}

/**
 * The generation in a raw answer, and the usage beside it. Besides TGI's shapes (`[{generated_text,
 * details}]`, `{generated_text, details}`) the answer may be `{"data": [{generated_text}], "usage"?}`:
 * the shape Kong's raw driver reads (kong/llm/drivers/llama2.lua `from_raw`), so an upstream that works
 * behind Kong works here. Its `usage`, in OpenAI's counts, is passed on as Kong does.
 */
export function llama2RawGeneration(body: unknown): { generation: unknown; usage?: Usage } {
  if (!isObject(body) || !Array.isArray(body.data)) return { generation: body };
  const usage = openaiUsage(body);
  return usage ? { generation: body.data[0], usage } : { generation: body.data[0] };
}

/** A raw answer as OpenAI's: the generation's text after the prompt, its finish reason and usage. */
export function parseLlama2Raw(body: unknown, ctx: TargetContext): ChatCompletion | TextCompletion {
  const raw = llama2RawGeneration(body);
  const g = parseTgiGeneration(raw.generation, ctx);
  const text = llama2Answer(g.text);
  const usage = g.usage ?? raw.usage;
  const completions = ctx.routeType === 'llm/v1/completions';
  return wholeAnswer({ id: `${completions ? 'cmpl' : 'chatcmpl'}-${ctx.requestId}`, created: ctx.now(), model: ctx.model }, { completions },
    { text, finish: g.finish, usage });
}
