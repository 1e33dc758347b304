import { createHash, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { RuntimeError } from "../errors.ts";

/**
 * Layer byte streams: compression detected by magic number (gzip 1f 8b, zstd 28 b5 2f fd, else an
 * uncompressed tar), and a tap that hashes what flows through (diffIDs are sha256 of the
 * uncompressed tar). Node 20's zlib has no zstd; when a newer Node provides
 * `zlib.createZstdDecompress` it is used, otherwise zstd layers fail with a clear error.
 */
export type Compression = "gzip" | "zstd" | "none";

export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** Re-yields a stream's chunks, first ensuring at least `n` bytes can be peeked at. */
async function peek(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it =
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (async function* () {
          yield* source;
        })();
  const first: Buffer[] = [];
  let got = 0;
  let done = false;
  while (got < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    first.push(b);
    got += b.length;
  }
  const head = Buffer.concat(first);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  }
  return { head, rest: rest() };
}

/** The uncompressed tar bytes of a layer blob, whatever its compression. */
export async function decompressLayer(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ compression: Compression; tar: AsyncIterable<Buffer> }> {
  const { head, rest } = await peek(source, 4);
  const compression = detectCompression(head);
  if (compression === "none") return { compression, tar: rest };
  let decoder: NodeJS.ReadWriteStream;
  if (compression === "gzip") decoder = zlib.createGunzip();
  else {
    const make = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream })
      .createZstdDecompress;
    if (make === undefined) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `zstd-compressed layers need Node >= 22.15 (this is Node ${process.versions.node}); re-push the image with gzip layers`,
      );
    }
    decoder = make();
  }
  const input = Readable.from(rest);
  input.on("error", (e) => decoder.emit("error", e));
  return { compression, tar: input.pipe(decoder) as unknown as AsyncIterable<Buffer> };
}

/** Passes chunks through while feeding them to `hash` and counting bytes into `counter.bytes`. */
export async function* hashTap(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  hash: Hash,
  counter: { bytes: number } = { bytes: 0 },
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    hash.update(b);
    counter.bytes += b.length;
    yield b;
  }
}

export function sha256(): Hash {
  return createHash("sha256");
}
