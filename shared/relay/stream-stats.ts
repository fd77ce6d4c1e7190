// What the relay needs to know about a stream it wrote: the model the chunks name, how much text and
// tool-call argument text they carried (for token estimates when the provider reports no counts), the
// finish reason, and, for log_payloads, the combined completion (as Kong logs it for streams).
import { isObject } from '../providers/json';

export class StreamStats {
  model: string | null = null;
  completionChars = 0;
  finishReason: string | null = null;
  private text: string[] | undefined;

  constructor(collectText: boolean) {
    if (collectText) this.text = [];
  }

  /** One piece of SSE text as written to the client (whole events only: the pipeline never splits one). */
  see(sse: string): void {
    for (const event of sse.split('\n\n')) {
      if (!event.startsWith('data: {')) continue;
      let v: unknown;
      try {
        v = JSON.parse(event.slice(6));
      } catch {
        continue;
      }
      if (!isObject(v)) continue;
      if (this.model === null && typeof v.model === 'string' && v.model !== '') this.model = v.model;
      if (!Array.isArray(v.choices)) continue;
      for (const c of v.choices) {
        if (!isObject(c)) continue;
        if (typeof c.finish_reason === 'string') this.finishReason = c.finish_reason;
        const d = isObject(c.delta) ? c.delta : undefined;
        const piece = typeof d?.content === 'string' ? d.content : typeof c.text === 'string' ? c.text : '';
        this.completionChars += piece.length;
        if (piece) this.text?.push(piece);
        if (d && Array.isArray(d.tool_calls)) {
          for (const t of d.tool_calls) {
            const f = isObject(t) && isObject(t.function) ? t.function : undefined;
            if (typeof f?.arguments === 'string') this.completionChars += f.arguments.length;
            if (typeof f?.name === 'string') this.completionChars += f.name.length;
          }
        }
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
