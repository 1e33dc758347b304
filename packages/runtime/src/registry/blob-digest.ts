import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { Readable } from "node:stream";
import { RegistryError } from "./registry-error.ts";

export function sha256Digest(bytes: Buffer | Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export interface VerifyOptions {
  /** Expected size in bytes; a longer stream fails at once, a shorter one at its end. */
  size?: number;
  /** Called as bytes pass, with the running total. */
  onBytes?: (done: number) => void;
  /** Names the blob's origin in errors ("127.0.0.1:5000/app"). */
  where?: string;
}

/**
 * Hashes content as it passes and checks it against the expected digest and size: `update` fails
 * as soon as there are too many bytes, `finish` when the whole does not match.
 */
export class DigestCheck {
  private readonly hash;
  private readonly algorithm: string;
  bytes = 0;

  constructor(
    readonly expected: string,
    private readonly options: VerifyOptions = {},
  ) {
    const [algorithm] = expected.split(":");
    if (algorithm !== "sha256" && algorithm !== "sha512") {
      throw new RegistryError("PROTOCOL", `unsupported digest algorithm in ${expected}`, {
        digest: expected,
      });
    }
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.options.size !== undefined && this.bytes > this.options.size) {
      throw this.mismatch(`more than the expected ${this.options.size} bytes`);
    }
    this.hash.update(chunk);
    this.options.onBytes?.(this.bytes);
  }

  finish(): void {
    const actual = `${this.algorithm}:${this.hash.digest("hex")}`;
    if (this.options.size !== undefined && this.bytes !== this.options.size) {
      throw this.mismatch(`${this.bytes} bytes instead of ${this.options.size}`);
    }
    if (actual !== this.expected) {
      throw this.mismatch(`content hashes to ${actual} (${this.bytes} bytes)`);
    }
  }

  private mismatch(what: string): RegistryError {
    const from = this.options.where ? ` from ${this.options.where}` : "";
    return new RegistryError(
      "DIGEST_MISMATCH",
      `blob ${this.expected}${from}: ${what}; it was discarded — retry, and if it happens again the source is corrupt`,
      { digest: this.expected, bytes: this.bytes, where: this.options.where },
    );
  }
}

/**
 * A lazily pulled, verifying copy of `source`: it reads nothing until consumed (so a consumer that
 * attaches late misses nothing), and errors instead of ending when the content does not match, so
 * that a sink never sees a clean end of a bad blob.
 */
export function verifiedStream(
  source: AsyncIterable<Uint8Array | string>,
  digest: string,
  options: VerifyOptions = {},
): Readable {
  const check = new DigestCheck(digest, options);
  async function* verify() {
    for await (const chunk of source) {
      const buffer =
        typeof chunk === "string"
          ? Buffer.from(chunk)
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      check.update(buffer);
      yield buffer;
    }
    check.finish();
  }
  return Readable.from(verify(), { objectMode: false });
}

/**
 * Writes a stream to `file` only if it matches `digest`: into a temp file beside it, fsync, then
 * rename. On a mismatch or a failed read the temp file is removed and `file` is untouched.
 */
export async function writeVerifiedFile(
  file: string,
  digest: string,
  source: NodeJS.ReadableStream,
  options: VerifyOptions = {},
): Promise<void> {
  const temp = `${file}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  const handle = await fs.open(temp, "wx", 0o644);
  let committed = false;
  try {
    for await (const chunk of verifiedStream(
      source as AsyncIterable<Uint8Array>,
      digest,
      options,
    )) {
      await handle.write(chunk as Buffer);
    }
    await handle.sync();
    await handle.close();
    await fs.rename(temp, file);
    committed = true;
  } finally {
    if (!committed) {
      await handle.close().catch(() => {});
      await fs.rm(temp, { force: true });
    }
  }
}
