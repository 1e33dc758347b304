import { open } from "node:fs/promises";
import { lastLines } from "./run-as-user.ts";

// Enough for the lines that explain a failed start, without reading a huge log.
const MAX_TAIL_BYTES = 64 * 1024;

/** The last `count` lines written to `path` after byte `fromOffset`; [] if unreadable. */
export async function readLogTail(path: string, fromOffset = 0, count = 15): Promise<string[]> {
  try {
    const file = await open(path, "r");
    try {
      const { size } = await file.stat();
      const start = Math.max(fromOffset, size - MAX_TAIL_BYTES, 0);
      const buffer = Buffer.alloc(Math.max(size - start, 0));
      await file.read(buffer, 0, buffer.length, start);
      return lastLines(buffer.toString("utf8"), count);
    } finally {
      await file.close();
    }
  } catch {
    return [];
  }
}
