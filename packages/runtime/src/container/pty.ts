import fs from "node:fs";
import { Duplex } from "node:stream";
import tty from "node:tty";
import { RuntimeError } from "../errors.ts";
import { F_DUPFD_CLOEXEC } from "../sys/constants.ts";
import { linuxSyscalls } from "../sys/linux.mjs";
import { getWindowSize, openPtyMaster, openPtyPeer, setWindowSize } from "../sys/pty.mjs";

export interface WindowSize {
  cols: number;
  rows: number;
}

export const DEFAULT_WINDOW: WindowSize = { cols: 80, rows: 24 };

/** A new pty: the engine keeps `stream` (the master), the process gets `slave` as fds 0-2. */
export interface Pty {
  stream: PtyStream;
  /** The slave fd (O_CLOEXEC, O_NOCTTY): hand it to the process, then close it here. */
  slave: number;
  /** /dev/pts/<index> in the devpts instance the pty lives in. */
  index: number;
}

/**
 * Allocates a pty at a ptmx node: `/proc/<init>/root/dev/pts/ptmx` for a pty in a running
 * container's own devpts instance (what runc does through its console socket: the process's
 * `tty` is /dev/pts/N inside the container), or `/dev/ptmx` for the host's. The slave comes from
 * TIOCGPTPEER, so no path of the (untrusted) container is looked up for it.
 */
export function openPty(ptmxPath: string, size: WindowSize = DEFAULT_WINDOW): Pty {
  let opened: { master: number; index: number };
  let slave: number;
  try {
    opened = openPtyMaster(ptmxPath);
  } catch (e) {
    throw new RuntimeError(
      "SYSCALL_FAILED",
      `cannot allocate a pty at ${ptmxPath}: ${(e as Error).message}`,
      { ptmxPath },
    );
  }
  try {
    setWindowSize(opened.master, size.cols, size.rows);
    slave = openPtyPeer(opened.master);
  } catch (e) {
    fs.closeSync(opened.master);
    throw new RuntimeError(
      "SYSCALL_FAILED",
      `cannot allocate a pty at ${ptmxPath}: ${(e as Error).message}`,
      { ptmxPath },
    );
  }
  return { stream: new PtyStream(opened.master), slave, index: opened.index };
}

const EAGAIN_RETRY_MS = 5;

/**
 * The master side of a pty as a Duplex: what the process writes to its terminal is read here,
 * what is written here is its keyboard input. Reads go through a tty handle on a dup of the
 * master (libuv, non-blocking); writes go to the master fd itself, retried on EAGAIN while the
 * slave's input queue is full. The stream ends when the last slave fd closes (EIO on the master).
 * Ending the writable side sends nothing: the process keeps its terminal until it exits.
 */
export class PtyStream extends Duplex {
  private readonly reader: tty.ReadStream;
  private fdOpen = true;
  private writing = false;

  constructor(private readonly fd: number) {
    super({ allowHalfOpen: true });
    const readFd = linuxSyscalls.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    this.reader = new tty.ReadStream(readFd);
    this.reader.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) this.reader.pause();
    });
    this.reader.on("end", () => this.hangup());
    this.reader.on("error", (e: NodeJS.ErrnoException) => {
      // EIO: every slave fd is closed (the process and its children have exited).
      if (e.code === "EIO") this.hangup();
      else this.destroy(e);
    });
  }

  /** The terminal is gone: end the readable side and let go of the master. */
  private hangup(): void {
    this.push(null);
    this.closeFd();
  }

  private closeFd(): void {
    if (this.writing) {
      setTimeout(() => this.closeFd(), EAGAIN_RETRY_MS);
      return;
    }
    if (this.fdOpen) {
      this.fdOpen = false;
      fs.closeSync(this.fd);
    }
  }

  override _read(): void {
    this.reader.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error | null) => void) {
    let offset = 0;
    const next = () => {
      if (!this.fdOpen) return callback(new Error("the pty is closed"));
      if (offset >= chunk.length) {
        this.writing = false;
        return callback();
      }
      this.writing = true;
      fs.write(this.fd, chunk, offset, chunk.length - offset, null, (err, n) => {
        if (err && (err as NodeJS.ErrnoException).code === "EAGAIN") {
          setTimeout(next, EAGAIN_RETRY_MS);
          return;
        }
        if (err) {
          this.writing = false;
          return callback(err);
        }
        offset += n;
        next();
      });
    };
    next();
  }

  override _final(callback: (e?: Error | null) => void): void {
    callback();
  }

  /** TIOCSWINSZ on the master: the process gets SIGWINCH and sees the new size. */
  resize(cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) {
      throw new RuntimeError("INVALID_ARGUMENT", `invalid terminal size ${cols}x${rows}`);
    }
    if (!this.fdOpen) return;
    setWindowSize(this.fd, cols, rows);
  }

  windowSize(): WindowSize {
    return getWindowSize(this.fd);
  }

  override _destroy(error: Error | null, callback: (e?: Error | null) => void): void {
    this.reader.destroy();
    this.closeFd();
    callback(error);
  }
}
