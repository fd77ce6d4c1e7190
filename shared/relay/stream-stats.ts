// What the relay needs to know about a stream it wrote: the model the chunks name, how much text and
// tool-call argument text they carried (for token estimates when the provider reports no counts), the
// finish reason, and, for log_payloads, the combined completion (as Kong logs it for streams).
import type { ToolCallDelta } from '../openai/types';
import type { StreamChunk } from '../providers/core/types';

export class StreamStats {
  model: string | null = null;
  completionChars = 0;
  finishReason: string | null = null;
  private text: string[] | undefined;

  constructor(collectText: boolean) {
    if (collectText) this.text = [];
  }

  /** One chunk as the pipeline writes it to the client. */
  see(chunk: StreamChunk): void {
    if (this.model === null && typeof chunk.model === 'string' && chunk.model !== '') this.model = chunk.model;
    // Chunks passed through from OpenAI-compatible upstreams are not checked field by field: read loosely.
    for (const c of chunk.choices as Array<{ finish_reason?: unknown; text?: unknown; delta?: { content?: unknown; tool_calls?: ToolCallDelta[] } }>) {
      if (typeof c.finish_reason === 'string') this.finishReason = c.finish_reason;
      const piece = typeof c.delta?.content === 'string' ? c.delta.content : typeof c.text === 'string' ? c.text : '';
      this.completionChars += piece.length;
      if (piece) this.text?.push(piece);
      for (const t of Array.isArray(c.delta?.tool_calls) ? c.delta.tool_calls : []) {
        this.completionChars += (t.function?.arguments?.length ?? 0) + (t.function?.name?.length ?? 0);
      }
    }
  }

  /** The stream as one completion, for payload logging. */
  combined(): string {
    return JSON.stringify({
      object: 'chat.completion',
      model: this.model,
      choices: [{ index: 0, message: { role: 'assistant', content: (this.text ?? []).join('') }, finish_reason: this.finishReason }],
    });
  }
}
