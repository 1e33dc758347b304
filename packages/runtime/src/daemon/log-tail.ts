import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { LogLine } from "../engine/log-collector.ts";

export interface LogTailOptions {
  /** container.log; rotated generations are `<file>.1` … `<file>.<maxFiles-1>`. */
  file: string;
  maxFiles: number;
  /** Only the last N lines of what exists now. */
  tail?: number;
  /** Only lines at or after this time. */
  since?: Date;
  /** Keep following new lines until `until` settles (the container exited), then drain and stop. */
  until?: Promise<unknown>;
  /** Stops following early (the client went away). */
  signal?: AbortSignal;
}

const POLL_MS = 100;

/**
 * Reads a container's log lines, then optionally follows the file as the engine appends to it.
 * Keeps its own fd on the current file: when the engine rotates (renames) it, the fd still reads
 * the rest of the old generation before moving to the new file, so no line is lost or repeated;
 * after `rm` of the container the open fd still drains what was written.
 */
export async function tailLogs(opts: LogTailOptions, emit: (line: LogLine) => void): Promise<void> {
  const since = opts.since?.getTime();
  const keep = (l: LogLine) => since === undefined || Date.parse(l.time) >= since;
  const cur = new LogCursor(opts.file);
  const initial: LogLine[] = [];
  for (let i = opts.maxFiles - 1; i >= 1; i--)
    initial.push(...parseLines(readOr(`${opts.file}.${i}`)));
  initial.push(...cur.readNew());
  let lines = initial.filter(keep);
  if (opts.tail !== undefined) lines = opts.tail === 0 ? [] : lines.slice(-opts.tail);
  for (const l of lines) emit(l);
  if (!opts.until) {
    cur.close();
    return;
  }
  let finished = false;
  opts.until.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  const stopped = () => finished || opts.signal?.aborted === true;
  try {
    while (!stopped()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        opts.until?.then(done, done);
        opts.signal?.addEventListener("abort", done, { once: true });
      });
      for (const l of cur.readNew()) if (keep(l)) emit(l);
    }
    if (!opts.signal?.aborted) for (const l of cur.readNew()) if (keep(l)) emit(l);
  } finally {
    cur.close();
  }
}

/** An fd on the current log file, its read offset, and the unfinished last line. */
class LogCursor {
  private fd: number | null = null;
  private ino = -1;
  private partial = "";
  private readonly buf = Buffer.alloc(64 * 1024);
  private decoder = new StringDecoder("utf8");

  constructor(private readonly file: string) {
    this.reopen();
  }

  private reopen(): void {
    try {
      const fd = fs.openSync(this.file, "r");
      this.fd = fd;
      this.ino = fs.fstatSync(fd).ino;
    } catch {
      this.fd = null; // not created yet (container not started) or removed
    }
  }

  /** Every complete line appended since the last call, across a rotation. */
  readNew(): LogLine[] {
    if (this.fd === null) this.reopen();
    const out: LogLine[] = [];
    if (this.fd === null) return out;
    out.push(...this.drain());
    // Rotated away from under us: the old generation is read to its end; continue in the new file.
    const now = fs.statSync(this.file, { throwIfNoEntry: false });
    if (now && now.ino !== this.ino) {
      this.close();
      this.partial = "";
      this.decoder = new StringDecoder("utf8");
      this.reopen();
      if (this.fd !== null) out.push(...this.drain());
    }
    return out;
  }

  private drain(): LogLine[] {
    let text = this.partial;
    for (;;) {
      const n = fs.readSync(this.fd!, this.buf, 0, this.buf.length, null);
      if (n === 0) break;
      text += this.decoder.write(this.buf.subarray(0, n));
    }
    const nl = text.lastIndexOf("\n");
    this.partial = text.slice(nl + 1);
    return parseLines(text.slice(0, nl + 1));
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function parseLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const l of text.split("\n")) {
    if (l === "") continue;
    try {
      out.push(JSON.parse(l) as LogLine);
    } catch {
      // a torn line from a crash mid-write: skip it, as Docker's json-file reader does
    }
  }
  return out;
}
