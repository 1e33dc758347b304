import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { sha256Digest, writeVerifiedFile } from "./blob-digest.ts";
import type { ImageReference } from "./image-reference.ts";
import type { ImageTransferStore } from "./image-transfer.ts";

const REF_NAME = "org.opencontainers.image.ref.name";

/**
 * Test-only ImageTransferStore: a bare OCI image layout (blobs/sha256/<hex>, index.json with one
 * entry per tag), so that skopeo's `oci:DIR:tag` can read and write the same directory.
 */
export class TestTransferStore implements ImageTransferStore {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<TestTransferStore> {
    await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
    await fs.writeFile(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const store = new TestTransferStore(dir);
    await fs
      .writeFile(store.indexFile, JSON.stringify({ schemaVersion: 2, manifests: [] }), {
        flag: "wx",
      })
      .catch(() => {});
    return store;
  }

  get indexFile(): string {
    return path.join(this.dir, "index.json");
  }

  blobPath(digest: string): string {
    const [algorithm, hex] = digest.split(":");
    return path.join(this.dir, "blobs", algorithm as string, hex as string);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return fs.access(this.blobPath(digest)).then(
      () => true,
      () => false,
    );
  }

  async writeBlob(digest: string, content: Readable, size?: number): Promise<void> {
    await writeVerifiedFile(this.blobPath(digest), digest, content, { size });
  }

  async readBlob(digest: string): Promise<Readable> {
    await fs.access(this.blobPath(digest));
    return createReadStream(this.blobPath(digest));
  }

  async putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<void> {
    const digest = sha256Digest(bytes);
    const name = ref.tag ?? digest;
    const index = await this.readIndex();
    index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== name);
    index.manifests.push({
      mediaType,
      digest,
      size: bytes.length,
      annotations: { [REF_NAME]: name },
    });
    await fs.writeFile(this.indexFile, JSON.stringify(index));
  }

  /** The manifest digest a tag points at (skopeo's `oci:DIR:tag` uses the same annotation). */
  async resolveTag(tag: string): Promise<string | undefined> {
    const index = await this.readIndex();
    return index.manifests.find((m) => m.annotations?.[REF_NAME] === tag)?.digest;
  }

  private async readIndex(): Promise<{
    schemaVersion: number;
    manifests: {
      mediaType: string;
      digest: string;
      size: number;
      annotations?: Record<string, string>;
    }[];
  }> {
    return JSON.parse(await fs.readFile(this.indexFile, "utf8"));
  }
}
