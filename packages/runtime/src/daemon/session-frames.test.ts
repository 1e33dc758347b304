import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { encodeFrame, FRAME, readFrames } from "./session-frames.ts";

describe("session frames", () => {
  it("decodes frames split and joined arbitrarily, after bytes that came with the upgrade", () => {
    const bytes = Buffer.concat([
      encodeFrame(FRAME.STDOUT, "hello"),
      encodeFrame(FRAME.STDIN_EOF),
      encodeFrame(FRAME.EXIT, JSON.stringify({ exitCode: 3 })),
    ]);
    const stream = new PassThrough();
    const seen: [number, string][] = [];
    readFrames(
      stream,
      (type, payload) => seen.push([type, payload.toString()]),
      bytes.subarray(0, 3),
    );
    for (let i = 3; i < bytes.length; i += 4) stream.write(bytes.subarray(i, i + 4));
    expect(seen).toEqual([
      [FRAME.STDOUT, "hello"],
      [FRAME.STDIN_EOF, ""],
      [FRAME.EXIT, '{"exitCode":3}'],
    ]);
  });
});
