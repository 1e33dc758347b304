// Test support: crafted layers and images committed straight into a store, so tests can make an
// image of any shape (whiteouts, opaque dirs, hundreds of layers) in milliseconds.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import type { ImageStore, ResolvedImage } from "./image-store.ts";
import { type ContainerConfig, type Descriptor, MEDIA } from "./oci-schemas.ts";
import { buildTar, type TarHeaderInput } from "./tar-writer.ts";

export interface TestLayer {
  desc: Descriptor;
  diffID: string;
}

/** Stores a crafted gzip layer; returns its descriptor and diffID. */
export async function makeTestLayer(
  store: ImageStore,
  entries: (TarHeaderInput & { body?: string })[],
): Promise<TestLayer> {
  const tar = buildTar(entries.map((e) => ({ mtime: 1_650_000_000, ...e })));
  const blob = await store.content.putBlobBytes(zlib.gzipSync(tar));
  return {
    desc: { mediaType: MEDIA.ociLayerGzip, digest: blob.digest, size: blob.size },
    diffID: `sha256:${createHash("sha256").update(tar).digest("hex")}`,
  };
}

/** Commits an image of these layers (bottom first) with this run config under `tag`. */
export function commitTestImage(
  store: ImageStore,
  tag: string,
  layers: readonly TestLayer[],
  config: ContainerConfig,
): Promise<ResolvedImage> {
  return store.commitImage(
    {
      architecture: "amd64",
      os: "linux",
      config,
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffID) },
    },
    layers.map((l) => l.desc),
    tag,
  );
}
