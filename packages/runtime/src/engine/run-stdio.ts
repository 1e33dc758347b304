import fs from "node:fs";
import path from "node:path";
import { PassThrough, type Readable, Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ContainerPaths } from "../container/container-paths.ts";
import { DEFAULT_WINDOW, PtyStream, type WindowSize } from "../container/pty.ts";
import type { StartHost } from "../container/start-plan.ts";
import { RuntimeError } from "../errors.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { LogFile } from "./log-collector.ts";

/** What a caller holds of a container started with -i and/or -t by this engine process. */
export interface RunAttachment {
  readonly tty: boolean;
  /** -i: the app's stdin (a FIFO without -t, the terminal's keyboard with -t); else null. */
  readonly stdin: Writable | null;
  /**
   * -t: what the app writes to its terminal, from the start (kept until read, up to 1 MiB) and
   * ending when the terminal hangs up. Without -t the output is in the logs only.
   */
  readonly output: Readable | null;
  /** -t: sets the terminal size (the app gets SIGWINCH); INVALID_STATE without -t. */
  resize(cols: number, rows: number): void;
}

/** -t: where the pty master the zygote opened in the container's devpts goes (start-container.ts). */
export interface RunConsole {
  /** Takes ownership of `master` (an fd of this process), before the app runs. */
  attach(master: number): void;
}

/** Start-path plumbing of a -i / -t run; see openRunStdio. */
export interface RunStdio {
  /** Overrides of the start plan's stdio paths (opened by the zygote before leaving the host). */
  host: Partial<Pick<StartHost, "stdinPath" | "stdoutPath" | "stderrPath">>;
  /** -t: given to startContainer, which hands it the container's pty master. */
  console?: RunConsole;
  attachment: RunAttachment;
  /** The container holds its stdio now. */
  started(): void;
  /** The container exited: stdin is closed; the terminal's last output is still delivered. */
  exited(): void;
  /** Undoes everything (a failed start). */
  close(): void;
}

const OUTPUT_BUFFER_LIMIT = 1024 * 1024;

/** Writes to a non-blocking fd, retrying on EAGAIN; closes it when ended or destroyed. */
class FdWriter extends Writable {
  private open = true;
  constructor(private readonly fd: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (e?: Error | null) => void) {
    let offset = 0;
    const next = () => {
      if (offset >= chunk.length) return callback();
      fs.write(this.fd, chunk, offset, chunk.length - offset, null, (err, n) => {
        if (err && (err as NodeJS.ErrnoException).code === "EAGAIN") {
          setTimeout(next, 5);
          return;
        }
        if (err) return callback(err);
        offset += n;
        next();
      });
    };
    next();
  }
  override _final(callback: (e?: Error | null) => void) {
    this.closeFd();
    callback();
  }
  override _destroy(error: Error | null, callback: (e?: Error | null) => void) {
    this.closeFd();
    callback(error);
  }
  private closeFd() {
    if (this.open) {
      this.open = false;
      fs.closeSync(this.fd);
    }
  }
}

/** The terminal's output as log lines (stream stdout, as Docker logs a tty), CR LF as LF. */
function logTerminal(pty: PtyStream, logFile: LogFile): void {
  const decoder = new StringDecoder("utf8");
  let partial = "";
  const write = (log: string) =>
    logFile.write({ time: new Date().toISOString(), stream: "stdout", log });
  pty.on("data", (chunk: Buffer) => {
    const lines = (partial + decoder.write(chunk)).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) write(`${l.replace(/\r$/, "")}\n`);
  });
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    const rest = partial + decoder.end();
    if (rest !== "") write(rest);
    logFile.close();
  };
  pty.on("end", finish);
  pty.on("close", finish);
}

/**
 * The stdio of a container run with -i and/or -t (null for neither: /dev/null and the log FIFOs).
 *
 * -i without -t: a FIFO `stdin` in the container's run dir, opened here O_RDWR before the start so
 * that the zygote's O_RDONLY open does not block; ending `attachment.stdin` closes the only
 * writer and the app reads EOF.
 *
 * -t: a pty of the container's own devpts instance, as runc's console socket gives: at the end of
 * its setup the zygote opens /dev/pts/ptmx of the container, takes the slave (TIOCGPTPEER) as the
 * init's fds 0-2 and controlling terminal, and the engine copies the master out of it
 * (pidfd_getfd) into `console.attach` before the app runs — so the app's `tty` is /dev/pts/0. The
 * engine keeps the master: the app's terminal lives as long as this engine process (a restart
 * hangs it up). The output is also written to the container's log, as stdout.
 */
export function openRunStdio(
  sys: Syscalls,
  paths: ContainerPaths,
  logLimits: { maxBytes: number; maxFiles: number },
  options: { interactive: boolean; tty: boolean; consoleSize?: WindowSize | undefined },
): RunStdio | null {
  if (!options.interactive && !options.tty) return null;
  if (!options.tty) {
    const fifo = path.join(paths.runDir, "stdin");
    fs.rmSync(fifo, { force: true });
    sys.mknod(fifo, 0o010000 | 0o600, 0);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const stdin = new FdWriter(fd);
    stdin.on("error", () => {});
    return {
      host: { stdinPath: fifo },
      attachment: {
        tty: false,
        stdin,
        output: null,
        resize() {
          throw new RuntimeError("INVALID_STATE", "resize needs a container run with a tty");
        },
      },
      started() {},
      exited() {
        stdin.destroy();
      },
      close() {
        stdin.destroy();
        fs.rmSync(fifo, { force: true });
      },
    };
  }
  let pty: PtyStream | null = null;
  const output = new PassThrough();
  const console: RunConsole = {
    attach(master) {
      const stream = new PtyStream(master);
      pty = stream;
      // Before the zygote is told to go on, so the app sees this size from its first ioctl.
      const size = options.consoleSize ?? DEFAULT_WINDOW;
      stream.resize(size.cols, size.rows);
      logTerminal(stream, new LogFile(paths.log, logLimits.maxBytes, logLimits.maxFiles));
      stream.on("data", (chunk: Buffer | string) => {
        // Kept for a reader attaching late, but not without bound when nobody reads.
        if (output.readableLength < OUTPUT_BUFFER_LIMIT) output.write(chunk);
      });
      stream.on("end", () => output.end());
      stream.on("error", () => output.end());
    },
  };
  const interactive = options.interactive;
  return {
    host: {},
    console,
    attachment: {
      tty: true,
      get stdin() {
        return interactive ? pty : null;
      },
      output,
      resize(cols, rows) {
        if (!pty) throw new RuntimeError("INVALID_STATE", "the container's terminal is not open");
        pty.resize(cols, rows);
      },
    },
    started() {},
    exited() {
      // The hang-up (EIO) ends the stream; a grandchild holding the terminal is cut off later.
      const stream = pty;
      if (stream) setTimeout(() => stream.destroy(), 2000).unref();
    },
    close() {
      pty?.destroy();
      output.end();
    },
  };
}
