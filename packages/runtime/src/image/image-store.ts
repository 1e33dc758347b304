import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import type { RuntimeConfig } from "../config.ts";
import { RuntimeError } from "../errors.ts";
import { writeFileAtomic } from "../storage/durable-file.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { ContentStore, REF_NAME_ANNOTATION } from "./content-store.ts";
import { looksLikeId, normalizeTag, parseImageRef } from "./image-ref.ts";
import { decompressLayer, hashTap, sha256 } from "./layer-stream.ts";
import {
  type ContainerConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageManifest,
  imageConfigSchema,
  imageManifestSchema,
  MEDIA,
  type OciIndex,
} from "./oci-schemas.ts";
import { chainIDs, SnapshotStore } from "./snapshots.ts";
import { tarDirectory } from "./tar-directory.ts";

/**
 * Berth's image store: an OCI image layout (content-store.ts) plus unpacked layer snapshots
 * (snapshots.ts) under `<config.root>/images/`. An image's ID is its config digest, as in Docker.
 * index.json lists one descriptor per tag; an untagged image that a container still uses (after
 * `rm -f`) stays listed without a ref name until `prune`.
 */
export type ImageSyscalls = Pick<Syscalls, "mknod" | "lsetxattr" | "lgetxattr" | "llistxattr">;

export interface ImageStoreOptions {
  /** The runtime's root; the store lives in `<root>/images`. */
  root: string;
  sys: ImageSyscalls;
}

export interface ResolvedImage {
  /** Config digest. */
  id: string;
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  tags: string[];
}

export interface ImageSummary {
  id: string;
  manifestDigest: string;
  tags: string[];
  created?: string;
  /** Compressed bytes: config plus layer blobs. */
  size: number;
}

export interface ImageInspect extends ResolvedImage {
  layers: { digest: string; mediaType: string; size: number; diffID: string; chainID: string }[];
}

/** What the engine needs to run an image. */
export interface ImageRootfs {
  id: string;
  /** Snapshot dirs, topmost layer first: overlayfs `lowerdir` order. */
  lowerDirs: string[];
  /** Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Volumes, StopSignal, Healthcheck. */
  config: ContainerConfig;
}

export interface ImportOptions {
  tag: string;
  /** Run settings for the new image (Cmd, Env, …); PATH defaults to Debian's. */
  config?: ContainerConfig;
  /** History line, e.g. "berth image import /srv/rootfs". */
  createdBy?: string;
  /** Relative paths left out of a directory import. */
  exclude?: readonly string[];
}

export interface RemoveOptions {
  force?: boolean;
  /** True when a container uses the image (by ID); such an image is not deleted. */
  inUse?: (imageId: string) => boolean;
}

export interface PruneOptions {
  inUse?: (imageId: string) => boolean;
  /** Blobs and snapshots younger than this are kept (an import may be about to tag them). */
  graceMs?: number;
}

export interface PruneResult {
  blobs: number;
  snapshots: number;
  bytesFreed: number;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function goArch(arch: string = process.arch): string {
  return arch === "x64" ? "amd64" : arch === "ia32" ? "386" : arch;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export class ImageStore {
  readonly content: ContentStore;
  readonly snapshots: SnapshotStore;
  private readonly sys: ImageSyscalls;

  constructor(opts: ImageStoreOptions) {
    const dir = path.join(opts.root, "images");
    this.content = new ContentStore(dir);
    this.snapshots = new SnapshotStore(path.join(dir, "snapshots"));
    this.sys = opts.sys;
  }

  static forConfig(config: RuntimeConfig, sys: ImageSyscalls): ImageStore {
    return new ImageStore({ root: config.root, sys });
  }

  private loadImage(manifestDigest: string, tags: string[]): ResolvedImage {
    const manifest = imageManifestSchema.parse(
      JSON.parse(this.content.readBlob(manifestDigest).toString()),
    );
    const config = imageConfigSchema.parse(
      JSON.parse(this.content.readBlob(manifest.config.digest).toString()),
    );
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `image ${manifestDigest}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`,
      );
    }
    return { id: manifest.config.digest, manifestDigest, manifest, config, tags };
  }

  /** index.json entries grouped by manifest digest, with their tags. */
  private entries(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const d of this.content.readIndex().manifests) {
      const tags = out.get(d.digest) ?? [];
      const ref = d.annotations?.[REF_NAME_ANNOTATION];
      if (ref !== undefined) tags.push(ref);
      out.set(d.digest, tags);
    }
    return out;
  }

  hasTag(ref: string): boolean {
    const tag = normalizeTag(ref);
    return [...this.entries().values()].some((tags) => tags.includes(tag));
  }

  /** Finds an image by tag, `name@digest`, image ID or manifest digest (or a unique prefix). */
  resolve(ref: string): ResolvedImage {
    const entries = this.entries();
    const parsed = looksLikeId(ref) ? undefined : parseImageRef(ref);
    if (parsed?.digest) {
      if (entries.has(parsed.digest))
        return this.loadImage(parsed.digest, entries.get(parsed.digest)!);
    } else if (parsed) {
      const tag = `${parsed.name}:${parsed.tag ?? "latest"}`;
      for (const [digest, tags] of entries)
        if (tags.includes(tag)) return this.loadImage(digest, tags);
    } else {
      const hex = ref.replace(/^sha256:/, "");
      const matches = new Map<string, ResolvedImage>();
      for (const [digest, tags] of entries) {
        const img = this.loadImage(digest, tags);
        if (img.id.slice(7).startsWith(hex) || digest.slice(7).startsWith(hex))
          matches.set(digest, img);
      }
      if (matches.size > 1) {
        throw new RuntimeError("CONFLICT", `image ID prefix ${ref} is ambiguous`);
      }
      const [only] = matches.values();
      if (only) return only;
      // A hex-looking name ("cafe") may still be a tag.
      if (!ref.startsWith("sha256:")) {
        const tag = normalizeTag(ref);
        for (const [digest, tags] of entries)
          if (tags.includes(tag)) return this.loadImage(digest, tags);
      }
    }
    throw new RuntimeError("NOT_FOUND", `image ${ref} not found`, { ref });
  }

  list(): ImageSummary[] {
    return [...this.entries()].map(([digest, tags]) => {
      const img = this.loadImage(digest, tags);
      const size = img.manifest.config.size + img.manifest.layers.reduce((s, l) => s + l.size, 0);
      return {
        id: img.id,
        manifestDigest: digest,
        tags: [...tags].sort(),
        ...(img.config.created ? { created: img.config.created } : {}),
        size,
      };
    });
  }

  inspect(ref: string): ImageInspect {
    const img = this.resolve(ref);
    const chains = chainIDs(img.config.rootfs.diff_ids);
    return {
      ...img,
      layers: img.manifest.layers.map((l, i) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        diffID: img.config.rootfs.diff_ids[i]!,
        chainID: chains[i]!,
      })),
    };
  }

  /** The config's history, or one synthesised line per layer when the image has none. */
  history(ref: string): HistoryEntry[] {
    const img = this.resolve(ref);
    return (
      img.config.history ?? img.manifest.layers.map((l) => ({ created_by: `layer ${l.digest}` }))
    );
  }

  /** Adds tag `target` to the image `source` (moving it from any image that had it). */
  async tag(source: string, target: string): Promise<void> {
    const img = this.resolve(source);
    await this.setTag(img.manifestDigest, this.manifestDescriptor(img), normalizeTag(target));
  }

  private manifestDescriptor(img: ResolvedImage): Descriptor {
    return {
      mediaType: img.manifest.mediaType ?? MEDIA.ociManifest,
      digest: img.manifestDigest,
      size: this.content.readBlob(img.manifestDigest).length,
    };
  }

  /** Tags stored manifest bytes (a pull or load whose blobs are all in the content store). */
  async tagManifest(manifestDigest: string, mediaType: string, tag: string): Promise<void> {
    const size = this.content.readBlob(manifestDigest).length;
    await this.setTag(
      manifestDigest,
      { mediaType, digest: manifestDigest, size },
      normalizeTag(tag),
    );
  }

  private async setTag(manifestDigest: string, desc: Descriptor, tag: string): Promise<void> {
    await this.content.updateIndex((index) => {
      // The blobs must still be there: a concurrent rm/prune may have taken a shared one.
      const m = imageManifestSchema.parse(
        JSON.parse(this.content.readBlob(manifestDigest).toString()),
      );
      for (const d of [m.config, ...m.layers]) {
        if (!this.content.hasBlob(d.digest)) {
          throw new RuntimeError("CONFLICT", `blob ${d.digest} vanished while tagging; retry`);
        }
      }
      index.manifests = index.manifests.filter(
        (d) =>
          d.annotations?.[REF_NAME_ANNOTATION] !== tag &&
          !(d.digest === manifestDigest && d.annotations?.[REF_NAME_ANNOTATION] === undefined),
      );
      index.manifests.push({ ...desc, annotations: { [REF_NAME_ANNOTATION]: tag } });
    });
  }

  /**
   * Stores an image whose blobs are already in the content store (import, and later pull/load):
   * writes config and manifest, unpacks the snapshots, tags it.
   */
  async commitImage(
    config: ImageConfig,
    layers: Descriptor[],
    tag: string,
  ): Promise<ResolvedImage> {
    const cfg = imageConfigSchema.parse(config);
    const configBlob = await this.content.putBlobBytes(json(cfg));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers,
    };
    const manifestBlob = await this.content.putBlobBytes(json(manifest));
    const img = this.loadImage(manifestBlob.digest, [tag]);
    await this.ensureSnapshots(img);
    await this.setTag(
      manifestBlob.digest,
      { mediaType: MEDIA.ociManifest, digest: manifestBlob.digest, size: manifestBlob.size },
      normalizeTag(tag),
    );
    return img;
  }

  /** Imports a rootfs tarball stream (gzip or plain) as a one-layer image. */
  async importTar(source: AsyncIterable<Uint8Array>, opts: ImportOptions): Promise<ResolvedImage> {
    const { tar } = await decompressLayer(source);
    return this.appendLayer(undefined, tar, {
      tag: opts.tag,
      config: { Env: [DEFAULT_PATH], ...opts.config },
      createdBy: opts.createdBy ?? "berth image import",
    });
  }

  /**
   * A new image with `parent`'s layers and a new run config: what a Dockerfile's ENV, CMD, … make
   * (a history entry marked empty_layer, as Docker's).
   */
  async withConfig(
    parent: ResolvedImage | undefined,
    opts: { tag: string; config: ContainerConfig; createdBy: string },
  ): Promise<ResolvedImage> {
    const created = new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: parent?.config.architecture ?? goArch(),
      os: parent?.config.os ?? "linux",
      config: opts.config,
      rootfs: { type: "layers", diff_ids: [...(parent?.config.rootfs.diff_ids ?? [])] },
      history: [
        ...(parent?.config.history ?? []),
        { created, created_by: opts.createdBy, empty_layer: true },
      ],
    };
    return this.commitImage(config, [...(parent?.manifest.layers ?? [])], normalizeTag(opts.tag));
  }

  /**
   * A new image: `parent`'s layers (none for a base) plus one layer made of the uncompressed tar
   * stream `tar` (stored gzip-compressed), with `config` as its run config and one more history
   * entry. What import, container commit and build steps make.
   */
  async appendLayer(
    parent: ResolvedImage | undefined,
    tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    opts: {
      tag: string;
      config: ContainerConfig;
      createdBy: string;
      comment?: string;
      author?: string;
    },
  ): Promise<ResolvedImage> {
    const tag = normalizeTag(opts.tag);
    const diff = sha256();
    const gz = zlib.createGzip();
    const input = Readable.from(hashTap(tar, diff));
    input.on("error", (e) => gz.destroy(e));
    const layer = await this.content.putBlob(input.pipe(gz));
    const diffID = `sha256:${diff.digest("hex")}`;
    const created = new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: parent?.config.architecture ?? goArch(),
      os: parent?.config.os ?? "linux",
      ...(opts.author ? { author: opts.author } : {}),
      config: opts.config,
      rootfs: { type: "layers", diff_ids: [...(parent?.config.rootfs.diff_ids ?? []), diffID] },
      history: [
        ...(parent?.config.history ?? []),
        {
          created,
          created_by: opts.createdBy,
          ...(opts.comment ? { comment: opts.comment } : {}),
          ...(opts.author ? { author: opts.author } : {}),
        },
      ],
    };
    return this.commitImage(
      config,
      [
        ...(parent?.manifest.layers ?? []),
        { mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size },
      ],
      tag,
    );
  }

  /** Imports a directory tree as a one-layer image (owners, modes, xattrs, links kept). */
  async importDirectory(dir: string, opts: ImportOptions): Promise<ResolvedImage> {
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new RuntimeError("NOT_FOUND", `${dir} is not a directory`);
    }
    const exclude = opts.exclude ?? [];
    return this.importTar(tarDirectory(dir, { sys: this.sys, exclude }), {
      createdBy: `berth image import ${dir}`,
      ...opts,
    });
  }

  /** Unpacks any missing snapshot of the image's layer chain; returns them bottom first. */
  async ensureSnapshots(img: ResolvedImage): Promise<string[]> {
    const diffIDs = img.config.rootfs.diff_ids;
    const chains = chainIDs(diffIDs);
    const dirs: string[] = [];
    for (let i = 0; i < chains.length; i++) {
      const layer = img.manifest.layers[i]!;
      const lowers = chains.slice(0, i).reverse();
      dirs.push(
        await this.snapshots.create(
          chains[i]!,
          diffIDs[i]!,
          lowers,
          () => this.content.openBlob(layer.digest),
          { sys: this.sys },
        ),
      );
    }
    return dirs;
  }

  /** The engine's entry point: overlay lower dirs (topmost first) and the run config. */
  async rootfsFor(ref: string): Promise<ImageRootfs> {
    const img = this.resolve(ref);
    const dirs = await this.ensureSnapshots(img);
    return { id: img.id, lowerDirs: dirs.reverse(), config: img.config.config ?? {} };
  }

  /**
   * Removes a tag (or, given an ID, all of the image's tags — then only with `force` when there are
   * several). An image a container uses is refused without `force`, and with it only untagged (its
   * content stays until prune finds it unused). Returns the tags removed and bytes freed.
   */
  async rm(
    ref: string,
    opts: RemoveOptions = {},
  ): Promise<{ untagged: string[]; bytesFreed: number }> {
    const img = this.resolve(ref);
    const byTag = !looksLikeId(ref) && !parseImageRef(ref).digest;
    const untag = byTag ? [normalizeTag(ref)] : img.tags;
    if (!byTag && img.tags.length > 1 && !opts.force) {
      throw new RuntimeError(
        "CONFLICT",
        `image ${ref} has several tags (${img.tags.join(", ")}); remove them one by one or use -f`,
      );
    }
    const inUse = opts.inUse?.(img.id) ?? false;
    const remaining = img.tags.filter((t) => !untag.includes(t));
    if (inUse && remaining.length === 0 && !opts.force) {
      throw new RuntimeError(
        "CONFLICT",
        `image ${ref} is in use by a container (use -f to untag it)`,
      );
    }
    return this.content.withLock(() => {
      const index = this.content.readIndex();
      index.manifests = index.manifests.filter(
        (d) =>
          !(
            d.digest === img.manifestDigest &&
            untag.includes(d.annotations?.[REF_NAME_ANNOTATION] ?? "")
          ),
      );
      const stillListed = index.manifests.some((d) => d.digest === img.manifestDigest);
      if (!stillListed && inUse) {
        index.manifests.push(this.manifestDescriptor(img)); // dangling but in use
      }
      this.writeIndexLocked(index);
      const bytesFreed =
        stillListed || inUse ? 0 : this.collect(index, 0, this.contentOf(img)).bytesFreed;
      return { untagged: untag, bytesFreed };
    });
  }

  private writeIndexLocked(index: OciIndex): void {
    // updateIndex would take the lock again; we already hold it.
    writeFileAtomic(
      path.join(this.content.dir, "index.json"),
      `${JSON.stringify(index, null, 2)}\n`,
    );
  }

  /** The manifest, config and layer blobs and the snapshot chainIDs of one image. */
  private contentOf(img: ResolvedImage): Set<string> {
    return new Set([
      img.manifestDigest,
      img.manifest.config.digest,
      ...img.manifest.layers.map((l) => l.digest),
      ...chainIDs(img.config.rootfs.diff_ids),
    ]);
  }

  /**
   * Deletes blobs and snapshots that no index entry reaches (older than `graceMs`; only those in
   * `only` when given), then stale ingest files and snapshot temp dirs. Caller holds the lock.
   */
  private collect(index: OciIndex, graceMs: number, only?: Set<string>): PruneResult {
    const liveBlobs = new Set<string>();
    const liveChains = new Set<string>();
    for (const d of index.manifests) {
      liveBlobs.add(d.digest);
      if (!this.content.hasBlob(d.digest)) continue;
      const img = this.loadImage(d.digest, []);
      liveBlobs.add(img.manifest.config.digest);
      for (const l of img.manifest.layers) liveBlobs.add(l.digest);
      for (const c of chainIDs(img.config.rootfs.diff_ids)) liveChains.add(c);
    }
    const cutoff = Date.now() - graceMs;
    const result: PruneResult = { blobs: 0, snapshots: 0, bytesFreed: 0 };
    for (const b of this.content.listBlobs()) {
      if (liveBlobs.has(b) || (only && !only.has(b))) continue;
      const st = fs.statSync(this.content.blobPath(b), { throwIfNoEntry: false });
      if (!st || st.mtimeMs > cutoff) continue;
      result.bytesFreed += this.content.deleteBlob(b);
      result.blobs++;
    }
    for (const c of this.snapshots.list()) {
      if (liveChains.has(c) || (only && !only.has(c))) continue;
      const st = fs.statSync(this.snapshots.pathFor(c), { throwIfNoEntry: false });
      if (!st || st.ctimeMs > cutoff) continue;
      result.bytesFreed += this.snapshots.remove(c);
      result.snapshots++;
    }
    for (const f of this.content.staleIngests()) {
      fs.rmSync(f.path, { force: true });
      result.bytesFreed += f.size;
    }
    result.bytesFreed += this.snapshots.removeStaleTemps(pidAlive);
    return result;
  }

  /** Drops untagged images nobody uses, then every unreferenced blob and snapshot. */
  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    return this.content.withLock(() => {
      const index = this.content.readIndex();
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => {
        if (d.annotations?.[REF_NAME_ANNOTATION] !== undefined) return true;
        if (!this.content.hasBlob(d.digest)) return false;
        return opts.inUse?.(this.loadImage(d.digest, []).id) ?? false;
      });
      if (index.manifests.length !== before) this.writeIndexLocked(index);
      return this.collect(index, opts.graceMs ?? 5 * 60_000);
    });
  }
}
