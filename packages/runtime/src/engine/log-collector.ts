import fs from "node:fs";
import net from "node:net";

export interface LogLine {
  time: string;
  stream: "stdout" | "stderr";
  log: string;
}

/**
 * Appends Docker json-file style lines to container.log, rotating to .1 … .(maxFiles-1) when the
 * current file would exceed maxBytes.
 */
export class LogFile {
  private fd: number;
  private size: number;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
  ) {
    this.fd = fs.openSync(file, "a", 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  write(line: LogLine): void {
    const data = `${JSON.stringify(line)}\n`;
    const bytes = Buffer.byteLength(data);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    fs.writeSync(this.fd, data);
    this.size += bytes;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      const from = i === 1 ? this.file : `${this.file}.${i - 1}`;
      try {
        fs.renameSync(from, `${this.file}.${i}`);
      } catch (error) {
        // A generation that does not exist yet is fine; anything else (EACCES, EIO) is not.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    if (this.maxFiles === 1) fs.truncateSync(this.file, 0);
    this.fd = fs.openSync(this.file, "a", 0o600);
    this.size = 0;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Reads one container stream from its FIFO and writes timestamped lines. The container holds the
 * FIFO open O_RDWR (so it never gets EPIPE while no engine reads); `done` resolves at EOF, i.e.
 * when every process holding the write side is gone — after the keeper fd the engine holds until
 * the container is running has been released.
 */
export class StreamReader {
  readonly done: Promise<void>;
  private socket: net.Socket;
  private keeper: number | null;
  private partial = "";

  constructor(fifo: string, stream: LogLine["stream"], sink: LogFile, holdOpen: boolean) {
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    // Without a writer a FIFO read returns EOF at once; hold one until the container holds its own.
    this.keeper = holdOpen
      ? fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
      : null;
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      const text = this.partial + chunk;
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      const time = new Date().toISOString();
      for (const l of lines) sink.write({ time, stream, log: `${l}\n` });
    });
    this.done = new Promise((resolve) => {
      this.socket.on("end", () => {
        if (this.partial !== "")
          sink.write({ time: new Date().toISOString(), stream, log: this.partial });
        this.partial = "";
        resolve();
      });
      this.socket.on("close", () => resolve());
      this.socket.on("error", () => resolve());
    });
  }

  /** The container holds the write side now: let EOF mean "all writers gone". */
  release(): void {
    if (this.keeper !== null) fs.closeSync(this.keeper);
    this.keeper = null;
  }

  /** Stops reading (engine shutdown); the container keeps writing into the FIFO's buffer. */
  close(): void {
    this.release();
    this.socket.destroy();
  }

  /** Does not keep the engine's event loop alive. */
  unref(): void {
    this.socket.unref();
  }
}

/** Reads back container.log (with rotated generations, oldest first). */
export function readLogs(file: string, maxFiles: number): LogLine[] {
  const files = [];
  for (let i = maxFiles - 1; i >= 1; i--) files.push(`${file}.${i}`);
  files.push(file);
  return files.flatMap((f) => {
    let text: string;
    try {
      text = fs.readFileSync(f, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return []; // not rotated that far
      throw error;
    }
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as LogLine);
  });
}
