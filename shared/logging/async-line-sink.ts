// Log lines to a file descriptor (stderr) without ever blocking the event loop. Node writes to pipes
// synchronously on Linux, and Kong reads the plugin server's stderr through a pipe: if Kong stops
// reading, a plain process.stderr.write would block this process, which serves every Kong worker.
// Lines are queued and written from libuv's thread pool; past a bounded backlog new lines are dropped,
// counted, and the count is written as a line of its own once the backlog drains.
import { write, writeSync } from 'node:fs';

export interface LineSink {
  write(line: string): unknown;
}

export class AsyncLineSink implements LineSink {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** Lines dropped since the last drop notice. */
  private droppedSinceNotice = 0;
  /** Lines dropped in all. */
  dropped = 0;

  constructor(private readonly fd = 2, private readonly maxBacklogBytes = 1024 * 1024) {}

  write(line: string): boolean {
    const bytes = Buffer.from(line, 'utf8');
    if (this.queuedBytes + bytes.length > this.maxBacklogBytes) {
      this.dropped++;
      this.droppedSinceNotice++;
      return false;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.writing) this.flush();
    return true;
  }

  /** At exit only (blocking is fine then): whatever is still queued, written at once. */
  flushSync(): void {
    const chunk = Buffer.concat(this.queue);
    this.queue = [];
    this.queuedBytes = 0;
    try {
      if (chunk.length > 0) writeSync(this.fd, chunk);
    } catch {
      // Nothing left to tell it to.
    }
  }

  /** Bytes waiting to be written (tests; a growing figure means the reader is not keeping up). */
  get backlogBytes(): number {
    return this.queuedBytes;
  }

  private flush(): void {
    if (this.queue.length === 0) {
      if (this.droppedSinceNotice === 0) return;
      const notice = `${new Date().toISOString()} [warn] ${this.droppedSinceNotice} log lines dropped: stderr was not read fast enough\n`;
      this.droppedSinceNotice = 0;
      this.queue.push(Buffer.from(notice));
      this.queuedBytes += notice.length;
    }
    const chunk = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    this.queue = [];
    this.writing = true;
    write(this.fd, chunk, 0, chunk.length, null, (err, written) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // A non-blocking pipe that is full: try again shortly, keeping the bytes.
          this.queue.unshift(chunk);
          setTimeout(() => this.flush(), 10).unref();
          return;
        }
        // Closed or broken stderr: nothing more can be logged; never take the server down.
        this.queuedBytes = 0;
        this.queue = [];
        this.writing = false;
        return;
      }
      this.queuedBytes -= written;
      if (written < chunk.length) this.queue.unshift(chunk.subarray(written));
      this.writing = false;
      if (this.queue.length > 0 || this.droppedSinceNotice > 0) this.flush();
    });
  }
}

/** The sink every log line of the plugin server goes through; what is queued at exit is not lost. */
export const stderrSink = new AsyncLineSink(2);
process.on('exit', () => stderrSink.flushSync());
