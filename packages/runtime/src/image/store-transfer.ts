import type { Readable } from "node:stream";
import { DOCKER_HUB, type ImageReference } from "../registry/image-reference.ts";
import type { ImageTransferStore } from "../registry/image-transfer.ts";
import { isIndexMediaType } from "../registry/manifest-types.ts";
import type { ImageStore } from "./image-store.ts";

/**
 * The name an image pulled from `ref` gets in the store, as Docker shows it: Docker Hub's official
 * images by their short name (`busybox:1.36`), everything else with its registry
 * (`127.0.0.1:5000/team/app:v2`).
 */
export function storeNameOf(ref: ImageReference): string {
  const repository =
    ref.registry === DOCKER_HUB
      ? ref.repository.replace(/^library\//, "")
      : `${ref.registry}/${ref.repository}`;
  // A pull by digest alone keeps the digest in the tag, so the store can list and run it.
  const tag = ref.tag ?? (ref.digest ? ref.digest.replace(":", "-").slice(0, 19) : "latest");
  return `${repository}:${tag}`;
}

/**
 * The image store as registry transfers see it: blobs go through the content store's verified,
 * atomic writes; a pulled manifest is tagged under its store name. Indexes are kept as blobs only
 * (the store runs the linux/amd64 manifest a pull selected).
 */
export class StoreTransfer implements ImageTransferStore {
  constructor(private readonly images: ImageStore) {}

  async hasBlob(digest: string): Promise<boolean> {
    return this.images.content.hasBlob(digest);
  }

  async writeBlob(digest: string, content: Readable, size?: number): Promise<void> {
    await this.images.content.putBlob(content, { digest, ...(size !== undefined ? { size } : {}) });
  }

  async readBlob(digest: string): Promise<Readable> {
    if (!this.images.content.hasBlob(digest)) {
      throw new Error(`blob ${digest} is not in the image store`);
    }
    return this.images.content.openBlob(digest);
  }

  async putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<void> {
    if (isIndexMediaType(mediaType)) return;
    const digest = (await this.images.content.putBlobBytes(bytes)).digest;
    await this.images.tagManifest(digest, mediaType, storeNameOf(ref));
  }
}
