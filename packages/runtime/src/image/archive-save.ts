import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { ImageStore, ResolvedImage } from "./image-store.ts";
import { decompressLayer } from "./layer-stream.ts";
import { MEDIA } from "./oci-schemas.ts";
import { TAR_END, tarHeader, tarPadding } from "./tar-writer.ts";

export type ArchiveFormat = "docker-archive" | "oci-archive";

const TIME = 0; // archive entries carry no wall-clock time: the same images give the same tar

function* fileEntry(name: string, data: Buffer): Generator<Buffer> {
  yield tarHeader({ name, type: "file", mode: 0o644, size: data.length, mtime: TIME });
  yield data;
  yield tarPadding(data.length);
}

async function* streamFile(name: string, file: string): AsyncGenerator<Buffer> {
  const size = fs.statSync(file).size;
  yield tarHeader({ name, type: "file", mode: 0o644, size, mtime: TIME });
  for await (const chunk of fs.createReadStream(file)) yield chunk as Buffer;
  yield tarPadding(size);
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/**
 * `image save`: the images as one tar stream, in Docker's archive format (manifest.json, the
 * config as <id>.json, each layer uncompressed as <diffID>/layer.tar, so that `docker load` and
 * skopeo's docker-archive read it) or as an OCI image layout (oci-layout, index.json, blobs as
 * stored). `tags` name each image in the archive.
 */
export async function* saveImages(
  store: ImageStore,
  images: { image: ResolvedImage; tag: string }[],
  format: ArchiveFormat,
): AsyncGenerator<Buffer> {
  if (format === "oci-archive") {
    yield* fileEntry("oci-layout", json({ imageLayoutVersion: "1.0.0" }));
    const manifests = images.map(({ image, tag }) => ({
      mediaType: image.manifest.mediaType ?? MEDIA.ociManifest,
      digest: image.manifestDigest,
      size: store.content.readBlob(image.manifestDigest).length,
      annotations: {
        "io.containerd.image.name": tag,
        "org.opencontainers.image.ref.name": tag.slice(tag.lastIndexOf(":") + 1),
      },
    }));
    yield* fileEntry(
      "index.json",
      json({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }),
    );
    const seen = new Set<string>();
    yield tarHeader({ name: "blobs/", type: "dir", mode: 0o755, mtime: TIME });
    yield tarHeader({ name: "blobs/sha256/", type: "dir", mode: 0o755, mtime: TIME });
    for (const { image } of images) {
      const blobs = [
        image.manifestDigest,
        image.manifest.config.digest,
        ...image.manifest.layers.map((l) => l.digest),
      ];
      for (const digest of blobs) {
        if (seen.has(digest)) continue;
        seen.add(digest);
        yield* streamFile(`blobs/sha256/${digest.slice(7)}`, store.content.blobPath(digest));
      }
    }
    yield TAR_END;
    return;
  }
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const written = new Set<string>();
  for (const { image, tag } of images) {
    const configName = `${image.id.slice(7)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      yield* fileEntry(configName, store.content.readBlob(image.id));
    }
    const layers: string[] = [];
    for (const [i, layer] of image.manifest.layers.entries()) {
      const diffID = image.config.rootfs.diff_ids[i] as string;
      const name = `${diffID.slice(7)}/layer.tar`;
      layers.push(name);
      if (written.has(name)) continue;
      written.add(name);
      // A tar header needs the size first: the layer is uncompressed to a scratch file once.
      const scratch = path.join(
        store.content.ingestDir,
        `save-${process.pid}-${randomBytes(6).toString("hex")}`,
      );
      try {
        const { tar } = await decompressLayer(store.content.openBlob(layer.digest));
        await pipeline(tar, fs.createWriteStream(scratch, { mode: 0o600 }));
        yield tarHeader({ name: `${diffID.slice(7)}/`, type: "dir", mode: 0o755, mtime: TIME });
        yield* streamFile(name, scratch);
      } finally {
        fs.rmSync(scratch, { force: true });
      }
    }
    manifest.push({ Config: configName, RepoTags: [tag], Layers: layers });
  }
  yield* fileEntry("manifest.json", json(manifest));
  yield TAR_END;
}
