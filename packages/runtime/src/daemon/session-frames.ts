import type { Duplex } from "node:stream";

/**
 * The framing of an interactive session (exec, run -i/-t) on a connection upgraded from HTTP:
 * each frame is a type byte, a 4-byte big-endian length and the payload.
 */
export const FRAME = {
  /** client → daemon: bytes for the process's stdin. */
  STDIN: 0,
  /** client → daemon: stdin reached its end. */
  STDIN_EOF: 1,
  /** client → daemon: JSON {cols, rows}, the terminal's new size. */
  RESIZE: 2,
  /** client → daemon: JSON {signal}, to be sent to the process. */
  SIGNAL: 3,
  /** daemon → client: output bytes (with a tty: the terminal's, stdout and stderr together). */
  STDOUT: 4,
  STDERR: 5,
  /** daemon → client: JSON {exitCode, signal}; the last frame. */
  EXIT: 6,
  /** daemon → client: JSON {code, message}; the last frame. */
  ERROR: 7,
  /** daemon → client: JSON {id, name} of the container a run session created. */
  CREATED: 8,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export function encodeFrame(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Calls `onFrame` for each complete frame arriving on `stream` (after any `head` bytes). */
export function readFrames(
  stream: Duplex,
  onFrame: (type: FrameType, payload: Buffer) => void,
  head: Buffer = Buffer.alloc(0),
): void {
  let buf = head;
  const drain = () => {
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const type = buf.readUInt8(0) as FrameType;
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      onFrame(type, payload);
    }
  };
  stream.on("data", (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    drain();
  });
  drain();
}
