// Log lines to a file descriptor (stderr) without ever blocking the event loop. Kong reads the plugin
// server's stderr through a pipe, and Node writes to pipes synchronously on Linux: if Kong stopped
// reading, a plain process.stderr.write would block this process, which serves every Kong worker.
//
// For a pipe, the sink opens the pipe again through /proc/self/fd with O_NONBLOCK (a file description
// of its own, so stderr's other writers keep theirs) and writes from the event loop: a write either
// takes what the pipe can hold or fails with EAGAIN at once; the rest waits in a bounded queue and is
// retried shortly. No thread pool, no blocking. Lines are gathered for up to BATCH_MS and go out in one
// write (a write is a system call, and a request writes one line). Past the bounded backlog new lines
// are dropped, counted, and the count is written as a line of its own once the backlog drains. Anything
// else (a file, a terminal, a socket) is written from libuv's thread pool.
import { closeSync, constants, fstatSync, openSync, write, writeSync } from 'node:fs';

export interface LineSink {
  write(line: string): unknown;
}

/** How long to wait before trying a full pipe again. */
const RETRY_MS = 5;
/** How long a line may wait for others to go out with it. */
const BATCH_MS = 20;

/** A non-blocking file description of the pipe `fd`, or undefined when `fd` is not a pipe (or cannot be reopened). */
function nonBlockingPipe(fd: number): number | undefined {
  try {
    if (!fstatSync(fd).isFIFO()) return undefined;
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

export class AsyncLineSink implements LineSink {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private writing = false;
  private broken = false;
  /** Lines dropped since the last drop notice. */
  private droppedSinceNotice = 0;
  /** Lines dropped in all. */
  dropped = 0;
  /** The non-blocking description of a pipe, written on the event loop; undefined: the thread-pool path. */
  private readonly pipe: number | undefined;

  constructor(private readonly fd = 2, private readonly maxBacklogBytes = 1024 * 1024) {
    this.pipe = nonBlockingPipe(fd);
  }

  write(line: string): boolean {
    if (this.broken) return false;
    const bytes = Buffer.from(line, 'utf8');
    if (this.queuedBytes + bytes.length > this.maxBacklogBytes) {
      this.dropped++;
      this.droppedSinceNotice++;
      return false;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.flush();
      }, BATCH_MS).unref();
    }
    return true;
  }

  /** At exit only: whatever is still queued, written now (to a full pipe, as much as it takes: never blocking). */
  flushSync(): void {
    const chunk = Buffer.concat(this.queue);
    this.queue = [];
    this.queuedBytes = 0;
    try {
      if (chunk.length > 0) writeSync(this.pipe ?? this.fd, chunk);
    } catch {
      // Nothing left to tell it to.
    }
  }

  /** Bytes waiting to be written (tests; a growing figure means the reader is not keeping up). */
  get backlogBytes(): number {
    return this.queuedBytes;
  }

  /** The next chunk to write: the queue, and a drop notice when lines were dropped and there is room. */
  private take(): Buffer | undefined {
    if (this.queue.length === 0) {
      if (this.droppedSinceNotice === 0) return undefined;
      const notice = `${new Date().toISOString()} [warn] ${this.droppedSinceNotice} log lines dropped: stderr was not read fast enough\n`;
      this.droppedSinceNotice = 0;
      this.queue.push(Buffer.from(notice));
      this.queuedBytes += notice.length;
    }
    const chunk = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    this.queue = [];
    return chunk;
  }

  private flush(): void {
    if (this.pipe !== undefined) this.flushPipe(this.pipe);
    else this.flushThreadPool();
  }

  private flushPipe(pipe: number): void {
    for (let chunk = this.take(); chunk !== undefined; chunk = this.take()) {
      let written: number;
      try {
        written = writeSync(pipe, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          // The pipe is full: keep the bytes, try again shortly.
          this.queue.unshift(chunk);
          this.retryLater();
          return;
        }
        this.fail();
        return;
      }
      this.queuedBytes -= written;
      if (written < chunk.length) {
        this.queue.unshift(chunk.subarray(written));
        this.retryLater();
        return;
      }
    }
  }

  private retryLater(): void {
    this.writing = true;
    setTimeout(() => {
      this.writing = false;
      this.flush();
    }, RETRY_MS).unref();
  }

  private flushThreadPool(): void {
    const chunk = this.take();
    if (chunk === undefined) return;
    this.writing = true;
    write(this.fd, chunk, 0, chunk.length, null, (err, written) => {
      this.writing = false;
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.queue.unshift(chunk);
          this.retryLater();
        } else {
          this.fail();
        }
        return;
      }
      this.queuedBytes -= written;
      if (written < chunk.length) this.queue.unshift(chunk.subarray(written));
      if (this.queue.length > 0 || this.droppedSinceNotice > 0) this.flush();
    });
  }

  /** Closed or broken: nothing more can be logged; never take the server down. */
  private fail(): void {
    this.broken = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.pipe !== undefined) {
      try { closeSync(this.pipe); } catch { /* already gone */ }
    }
  }
}

/** The sink every log line of the plugin server goes through; what is queued at exit is not lost. */
export const stderrSink = new AsyncLineSink(2);
process.on('exit', () => stderrSink.flushSync());
