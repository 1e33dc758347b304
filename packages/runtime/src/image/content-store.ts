import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { RuntimeError } from "../errors.ts";
import { fsyncPath, writeFileAtomic } from "../storage/durable-file.ts";
import { hashTap, sha256 } from "./layer-stream.ts";
import { type OciIndex, ociIndexSchema } from "./oci-schemas.ts";

/**
 * The OCI image layout under `<root>/images/`: `oci-layout`, `blobs/sha256/<hex>` and `index.json`
 * (tagged manifests, `org.opencontainers.image.ref.name` annotations). Blobs are streamed into
 * `ingest/`, hashed on the way, fsynced and renamed into place only when digest and size match, so
 * a corrupt or truncated blob is never visible. `index.json` changes go through a lock file
 * (`index.lock`, O_EXCL with the holder's pid; a dead holder's lock is taken over) and are written
 * temp-fsync-rename, so several Berth processes on one host can share a store.
 */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function assertDigest(digest: string): string {
  if (!DIGEST_RE.test(digest)) {
    throw new RuntimeError("INVALID_ARGUMENT", `not a sha256 digest: ${JSON.stringify(digest)}`);
  }
  return digest;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class ContentStore {
  readonly dir: string;
  readonly blobDir: string;
  readonly ingestDir: string;
  private readonly indexFile: string;
  private readonly lockFile: string;

  constructor(imagesDir: string) {
    this.dir = imagesDir;
    this.blobDir = path.join(imagesDir, "blobs", "sha256");
    this.ingestDir = path.join(imagesDir, "ingest");
    this.indexFile = path.join(imagesDir, "index.json");
    this.lockFile = path.join(imagesDir, "index.lock");
    fs.mkdirSync(this.blobDir, { recursive: true });
    fs.mkdirSync(this.ingestDir, { recursive: true });
    const layout = path.join(imagesDir, "oci-layout");
    if (!fs.existsSync(layout)) {
      writeFileAtomic(layout, `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
    }
  }

  blobPath(digest: string): string {
    return path.join(this.blobDir, assertDigest(digest).slice("sha256:".length));
  }

  hasBlob(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  /** The blob's bytes as a stream. */
  openBlob(digest: string): fs.ReadStream {
    const p = this.blobPath(digest);
    if (!fs.existsSync(p)) throw new RuntimeError("NOT_FOUND", `blob ${digest} not found`);
    return fs.createReadStream(p, { highWaterMark: 256 * 1024 });
  }

  readBlob(digest: string): Buffer {
    const p = this.blobPath(digest);
    if (!fs.existsSync(p)) throw new RuntimeError("NOT_FOUND", `blob ${digest} not found`);
    return fs.readFileSync(p);
  }

  /**
   * Streams `source` into the store. With `expected`, the digest (and size, when given) must match
   * or nothing is kept; without, the computed digest names the blob.
   */
  async putBlob(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    expected?: { digest: string; size?: number },
  ): Promise<BlobInfo> {
    if (expected) assertDigest(expected.digest);
    const tmp = path.join(this.ingestDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
    const hash = sha256();
    const counter = { bytes: 0 };
    const fd = fs.openSync(tmp, "wx", 0o644);
    try {
      try {
        for await (const chunk of hashTap(source, hash, counter)) {
          let off = 0;
          while (off < chunk.length) off += fs.writeSync(fd, chunk, off);
        }
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const digest = `sha256:${hash.digest("hex")}`;
      if (expected && digest !== expected.digest) {
        throw new RuntimeError(
          "INVALID_ARGUMENT",
          `blob digest mismatch: expected ${expected.digest}, got ${digest} (${counter.bytes} bytes)`,
          { expected: expected.digest, actual: digest },
        );
      }
      if (expected?.size !== undefined && counter.bytes !== expected.size) {
        throw new RuntimeError(
          "INVALID_ARGUMENT",
          `blob ${digest} size mismatch: expected ${expected.size}, got ${counter.bytes}`,
        );
      }
      fs.renameSync(tmp, this.blobPath(digest));
      fsyncPath(this.blobDir);
      return { digest, size: counter.bytes };
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  async putBlobBytes(data: Buffer | string, expected?: { digest: string }): Promise<BlobInfo> {
    return this.putBlob([Buffer.from(data)], expected);
  }

  /** Every blob digest present. */
  listBlobs(): string[] {
    return fs
      .readdirSync(this.blobDir)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  }

  deleteBlob(digest: string): number {
    const p = this.blobPath(digest);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return 0;
    fs.rmSync(p, { force: true });
    return st.size;
  }

  readIndex(): OciIndex {
    if (!fs.existsSync(this.indexFile)) {
      return {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [],
      };
    }
    return ociIndexSchema.parse(JSON.parse(fs.readFileSync(this.indexFile, "utf8")));
  }

  /** Read-modify-write of index.json under the store lock. */
  async updateIndex<T>(change: (index: OciIndex) => T): Promise<T> {
    return this.withLock(() => {
      const index = this.readIndex();
      const result = change(index);
      writeFileAtomic(this.indexFile, `${JSON.stringify(index, null, 2)}\n`);
      return result;
    });
  }

  /** Runs `fn` holding `index.lock`; waits (up to 30 s) for a live holder, takes over a dead one's. */
  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const fd = fs.openSync(this.lockFile, "wx", 0o644);
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        let holder = 0;
        try {
          holder = Number(fs.readFileSync(this.lockFile, "utf8") || 0);
        } catch {
          continue; // released between our open and read
        }
        if (holder > 0 && holder !== process.pid && !pidAlive(holder)) {
          fs.rmSync(this.lockFile, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new RuntimeError(
            "CONFLICT",
            `image store is locked by pid ${holder} (${this.lockFile})`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    try {
      return await fn();
    } finally {
      fs.rmSync(this.lockFile, { force: true });
    }
  }

  /** Leftover ingest files of dead writers (a crash mid-write), with their sizes. */
  staleIngests(): { path: string; size: number }[] {
    return fs.readdirSync(this.ingestDir).flatMap((n) => {
      const pid = Number(n.split("-")[0]);
      if (pid > 0 && pidAlive(pid) && pid !== process.pid) return [];
      if (pid === process.pid) return [];
      const p = path.join(this.ingestDir, n);
      const st = fs.statSync(p, { throwIfNoEntry: false });
      return st ? [{ path: p, size: st.size }] : [];
    });
  }
}
