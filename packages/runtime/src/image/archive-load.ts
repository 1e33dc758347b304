import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { parseImageReference } from "../registry/image-reference.ts";
import type { ImageStore } from "./image-store.ts";
import { decompressLayer, detectCompression, hashTap, sha256 } from "./layer-stream.ts";
import { imageConfigSchema, imageManifestSchema, MEDIA, ociIndexSchema } from "./oci-schemas.ts";
import { storeNameOf } from "./store-transfer.ts";
import { readTar } from "./tar-reader.ts";

const METADATA = new Set(["manifest.json", "index.json", "oci-layout", "repositories"]);
const MAX_METADATA = 4 * 1024 * 1024;

const dockerManifestSchema = z.array(
  z.object({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

function bad(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", `cannot load the archive: ${message}`);
}

/**
 * `image load`: reads a Docker archive (`docker save`, skopeo docker-archive) or an OCI image
 * layout tarball (skopeo oci-archive, `image save --format oci-archive`) in one pass. Every file is
 * stored as a blob as it streams by — verified against its name where the name is a digest —
 * and only then do manifest.json / index.json say what they are; diffIDs are checked against the
 * image configs. Nothing is tagged unless all of an image's parts arrived intact.
 */
export async function loadImages(
  store: ImageStore,
  source: AsyncIterable<Uint8Array>,
  onLoaded: (line: string) => void = () => {},
): Promise<{ id: string; tag: string }[]> {
  const metadata = new Map<string, Buffer>();
  const blobs = new Map<string, { digest: string; size: number }>();
  const links = new Map<string, string>();
  for await (const { entry, body } of readTar(source)) {
    const name = path.posix.normalize(entry.name.replace(/^\.\//, "")).replace(/\/$/, "");
    if (name.startsWith("../") || name.startsWith("/"))
      throw bad(`entry ${entry.name} leaves the archive`);
    if (entry.type === "symlink" || entry.type === "hardlink") {
      // Old `docker save` links a layer shared by two images; only links inside the archive count.
      const target =
        entry.type === "symlink"
          ? path.posix.join(path.posix.dirname(name), entry.linkname)
          : entry.linkname;
      links.set(name, path.posix.normalize(target));
      continue;
    }
    if (entry.type !== "file") continue;
    if (METADATA.has(name)) {
      if (entry.size > MAX_METADATA) throw bad(`${name} is ${entry.size} bytes`);
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      metadata.set(name, Buffer.concat(chunks));
      continue;
    }
    // Named by digest (blobs/sha256/<hex>, <hex>.json): verified on the way in.
    const hex = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(name)?.[1];
    const expected =
      hex && !name.endsWith("/layer.tar")
        ? { digest: `sha256:${hex}`, size: entry.size }
        : undefined;
    blobs.set(name, await store.content.putBlob(body, expected));
  }
  const blobAt = (p: string) => blobs.get(links.get(p) ?? p);

  const loaded: { id: string; tag: string }[] = [];
  const index = metadata.get("index.json");
  const dockerManifest = metadata.get("manifest.json");
  if (dockerManifest) {
    for (const item of dockerManifestSchema.parse(JSON.parse(dockerManifest.toString()))) {
      const config = blobAt(item.Config);
      if (!config) throw bad(`the config ${item.Config} named by manifest.json is missing`);
      const parsed = imageConfigSchema.parse(
        JSON.parse(store.content.readBlob(config.digest).toString()),
      );
      if (parsed.rootfs.diff_ids.length !== item.Layers.length) {
        throw bad(
          `${item.Config} lists ${parsed.rootfs.diff_ids.length} layers, manifest.json ${item.Layers.length}`,
        );
      }
      const layers = [];
      for (const [i, layerPath] of item.Layers.entries()) {
        const blob = blobAt(layerPath);
        if (!blob) throw bad(`the layer ${layerPath} named by manifest.json is missing`);
        const { diffID, compressed } = await diffIdOf(store, blob.digest);
        if (diffID !== parsed.rootfs.diff_ids[i]) {
          throw bad(`layer ${layerPath} does not match the config's diff_ids[${i}] (${diffID})`);
        }
        layers.push({
          mediaType: compressed ? MEDIA.ociLayerGzip : MEDIA.ociLayer,
          digest: blob.digest,
          size: blob.size,
        });
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
          layers,
        }),
      );
      const { digest } = await store.content.putBlobBytes(manifest);
      const tags = item.RepoTags ?? [];
      if (tags.length === 0)
        throw bad("an image in manifest.json has no RepoTags; tag it before saving");
      for (const written of tags) {
        const tag = familiar(written);
        await store.tagManifest(digest, MEDIA.ociManifest, tag);
        await store.ensureSnapshots(store.resolve(tag));
        loaded.push({ id: config.digest, tag });
        onLoaded(`Loaded image: ${tag}`);
      }
    }
    return loaded;
  }
  if (index) {
    for (const d of ociIndexSchema.parse(JSON.parse(index.toString())).manifests) {
      const tag =
        d.annotations?.["io.containerd.image.name"] ??
        d.annotations?.["org.opencontainers.image.ref.name"];
      if (!tag || !/[:/]/.test(tag)) {
        throw bad(
          `the image ${d.digest} has no name in index.json (io.containerd.image.name or a full org.opencontainers.image.ref.name)`,
        );
      }
      if (!store.content.hasBlob(d.digest))
        throw bad(`manifest ${d.digest} is missing from blobs/`);
      const manifest = imageManifestSchema.parse(
        JSON.parse(store.content.readBlob(d.digest).toString()),
      );
      for (const part of [manifest.config, ...manifest.layers]) {
        if (!store.content.hasBlob(part.digest))
          throw bad(`blob ${part.digest} of ${tag} is missing`);
      }
      await store.tagManifest(d.digest, d.mediaType, tag);
      const image = store.resolve(tag);
      await store.ensureSnapshots(image);
      loaded.push({ id: image.id, tag });
      onLoaded(`Loaded image: ${tag}`);
    }
    return loaded;
  }
  throw bad("it has neither manifest.json (Docker archive) nor index.json (OCI layout)");
}

/** `docker.io/library/busybox:1` → `busybox:1`: names as the store (and Docker) show them. */
function familiar(name: string): string {
  return storeNameOf(parseImageReference(name));
}

/** A layer blob's diffID (the digest of its uncompressed tar) and whether it is compressed. */
async function diffIdOf(
  store: ImageStore,
  digest: string,
): Promise<{ diffID: string; compressed: boolean }> {
  const fd = await fs.promises.open(store.content.blobPath(digest));
  const head = Buffer.alloc(4);
  await fd.read(head, 0, 4, 0);
  await fd.close();
  if (detectCompression(head) === "none") return { diffID: digest, compressed: false };
  const hash = sha256();
  const { tar } = await decompressLayer(store.content.openBlob(digest));
  for await (const _ of hashTap(tar, hash)) {
    // hashing only
  }
  return { diffID: `sha256:${hash.digest("hex")}`, compressed: true };
}
