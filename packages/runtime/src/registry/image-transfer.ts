import { Readable } from "node:stream";
import { sha256Digest } from "./blob-digest.ts";
import { formatImageReference, type ImageReference, withTarget } from "./image-reference.ts";
import {
  type Descriptor,
  detectManifestMediaType,
  imageIndexSchema,
  imageManifestSchema,
  isIndexMediaType,
} from "./manifest-types.ts";
import { mapLimit } from "./map-limit.ts";
import type { BlobPushResult, RegistryClient, TransferProgress } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";

/**
 * What pull and push need from an image store. The store owns durability; the registry code owns
 * the network. Manifests and indexes are blobs too (as in the OCI image layout).
 */
export interface ImageTransferStore {
  /** Whether a complete, verified blob with this digest is stored. */
  hasBlob(digest: string): Promise<boolean>;
  /**
   * Consumes `content`, verifies it hashes to `digest` (and has `size` bytes, when given) and
   * commits it atomically; on a mismatch or a stream error it rejects and keeps nothing.
   */
  writeBlob(digest: string, content: Readable, size?: number): Promise<void>;
  /** Opens a stored blob for reading; rejects if it is absent. */
  readBlob(digest: string): Promise<Readable>;
  /** Points `ref` (its tag, or its digest) at manifest bytes whose blob is already stored. */
  putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<void>;
}

/**
 * Which repositories of a registry are known to hold a blob, so that a push to another repository
 * of the same registry can mount it instead of uploading it. Filled by pulls and pushes.
 */
export class BlobLocations {
  private readonly repositoriesByBlob = new Map<string, Set<string>>();

  record(registry: string, repository: string, digest: string): void {
    const key = `${registry} ${digest}`;
    let repositories = this.repositoriesByBlob.get(key);
    if (!repositories) {
      repositories = new Set();
      this.repositoriesByBlob.set(key, repositories);
    }
    repositories.add(repository);
  }

  repositories(registry: string, digest: string): string[] {
    return [...(this.repositoriesByBlob.get(`${registry} ${digest}`) ?? [])];
  }
}

export interface TransferOptions {
  /** Bytes done per blob, as they move. */
  onProgress?: TransferProgress;
  /** Blobs moved at once; 3 by default (as Docker does). */
  concurrency?: number;
  locations?: BlobLocations;
}

export interface PullResult {
  reference: string;
  /** Digest of the platform manifest that `ref` now points at in the store. */
  digest: string;
  mediaType: string;
  /** Digests of the index(es) the manifest was selected through, outermost first. */
  indexDigests: string[];
  blobs: { digest: string; size: number; action: "present" | "downloaded" }[];
}

export interface PushResult {
  reference: string;
  digest: string;
  blobs: BlobPushResult[];
}

const DEFAULT_CONCURRENCY = 3;

/** Pulls an image (index → platform manifest → config and layers) into the store. */
export async function pullImage(
  client: RegistryClient,
  ref: ImageReference,
  store: ImageTransferStore,
  options: TransferOptions = {},
): Promise<PullResult> {
  const resolved = await client.getManifest(ref);
  const descriptors = uniqueByDigest([resolved.manifest.config, ...resolved.manifest.layers]);
  const blobs = await mapLimit(
    descriptors,
    options.concurrency ?? DEFAULT_CONCURRENCY,
    async (descriptor) => {
      const { digest, size } = descriptor;
      options.locations?.record(ref.registry, ref.repository, digest);
      if (await store.hasBlob(digest)) {
        options.onProgress?.({ digest, done: size, total: size });
        return { digest, size, action: "present" as const };
      }
      const stream = await client.openBlob(ref, descriptor, options.onProgress);
      try {
        await store.writeBlob(digest, stream, size);
      } finally {
        stream.destroy();
      }
      return { digest, size, action: "downloaded" as const };
    },
  );
  for (const manifest of [...resolved.indexes, resolved]) {
    if (!(await store.hasBlob(manifest.digest))) {
      await store.writeBlob(
        manifest.digest,
        Readable.from([manifest.bytes]),
        manifest.bytes.length,
      );
    }
  }
  await store.putManifest(ref, resolved.bytes, resolved.mediaType);
  return {
    reference: formatImageReference(ref),
    digest: resolved.digest,
    mediaType: resolved.mediaType,
    indexDigests: resolved.indexes.map((i) => i.digest),
    blobs,
  };
}

/**
 * Pushes the manifest (or index) stored under `manifestDigest`, with every blob it references,
 * to `ref`: blobs first (skipped when present, mounted when known in a sibling repository), then
 * child manifests of an index by digest, then the top manifest under the reference's tag.
 */
export async function pushImage(
  client: RegistryClient,
  ref: ImageReference,
  store: ImageTransferStore,
  manifestDigest: string,
  options: TransferOptions = {},
): Promise<PushResult> {
  const blobs: BlobPushResult[] = [];
  const digest = await pushManifestTree(client, ref, store, manifestDigest, options, blobs, 0);
  return { reference: formatImageReference(ref), digest, blobs };
}

async function pushManifestTree(
  client: RegistryClient,
  ref: ImageReference,
  store: ImageTransferStore,
  manifestDigest: string,
  options: TransferOptions,
  results: BlobPushResult[],
  depth: number,
): Promise<string> {
  const bytes = await readAll(await store.readBlob(manifestDigest));
  if (sha256Digest(bytes) !== manifestDigest) {
    throw new RegistryError(
      "DIGEST_MISMATCH",
      `pushing ${formatImageReference(ref)}: the stored manifest ${manifestDigest} hashes to ${sha256Digest(bytes)}; the local store is corrupt`,
      { digest: manifestDigest },
    );
  }
  const mediaType = detectManifestMediaType(bytes);
  const json = JSON.parse(bytes.toString("utf8")) as unknown;
  const where = formatImageReference(ref);
  if (isIndexMediaType(mediaType)) {
    if (depth >= 4) {
      throw new RegistryError("PROTOCOL", `pushing ${where}: image indexes nested too deep`, {});
    }
    const index = imageIndexSchema.parse(json);
    for (const child of index.manifests) {
      await pushManifestTree(
        client,
        withTarget(ref, { digest: child.digest }),
        store,
        child.digest,
        options,
        results,
        depth + 1,
      );
    }
  } else {
    const parsed = imageManifestSchema.safeParse(json);
    if (!parsed.success) {
      throw new RegistryError(
        "PROTOCOL",
        `pushing ${where}: stored manifest ${manifestDigest} is not an image manifest: ${parsed.error.message}`,
        { digest: manifestDigest },
      );
    }
    const descriptors = uniqueByDigest([parsed.data.config, ...parsed.data.layers]);
    const pushed = await mapLimit(
      descriptors,
      options.concurrency ?? DEFAULT_CONCURRENCY,
      async (descriptor) => {
        const result = await client.pushBlob(
          ref,
          descriptor,
          () => store.readBlob(descriptor.digest),
          {
            mountFrom: options.locations?.repositories(ref.registry, descriptor.digest),
            onProgress: options.onProgress,
          },
        );
        options.locations?.record(ref.registry, ref.repository, descriptor.digest);
        return result;
      },
    );
    results.push(...pushed);
  }
  return client.putManifest(ref, bytes, mediaType);
}

function uniqueByDigest(descriptors: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descriptors.filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
