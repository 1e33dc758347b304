import fs from "node:fs";
import path from "node:path";
import { RuntimeError } from "../errors.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { decompressLayer, hashTap, sha256 } from "./layer-stream.ts";
import { readTar, type TarEntry } from "./tar-reader.ts";

/**
 * Applies one OCI layer (a tar stream, gzip/zstd/plain) to a snapshot directory that will become an
 * overlayfs lower layer.
 *
 * Hostile paths are neutralised the way containerd's archive.Apply does, never rejected:
 * - names are cleaned as if rooted at the snapshot (`/etc/x` and `../../etc/x` both land on
 *   `<snapshot>/etc/x`; `..` stops at the root);
 * - parent components are resolved one by one with lstat; a symlink met on the way (one created
 *   earlier in this layer, or one in a lower layer) is followed *scoped to the snapshot root*, like
 *   containerd's fs.RootPath, so `link -> /etc` then `link/passwd` writes `<snapshot>/etc/passwd`;
 *   the kernel never follows a symlink for us (files are created O_EXCL|O_NOFOLLOW, existing
 *   entries are removed first, metadata calls are the l* variants);
 * - hardlink targets are cleaned and resolved the same way, so they cannot leave the tree;
 * - symlink targets are stored verbatim: they are only ever resolved inside the container's root;
 * - PAX xattrs in the `trusted.overlay.` namespace are dropped (they would forge overlayfs
 *   whiteouts, opaque dirs or redirects); only the layer's own `.wh.` entries make those.
 * Device nodes follow Docker: character and block devices and fifos are created as nodes; a block
 * device is harmless there because the container's device cgroup and missing CAP_MKNOD/mount
 * rights keep non-root-on-host from using it.
 *
 * Parents that exist only in lower snapshots (e.g. `/usr/lib` when this layer adds a file in it)
 * are created here with the lower directory's mode and owner, as overlayfs copy-up would; a parent
 * that is a symlink in a lower snapshot (`/lib -> usr/lib` on merged-usr systems) is followed.
 * A hardlink to a file that lives in a lower snapshot cannot be a hardlink here: lower snapshots
 * are separate directories shared by other images, and linking across them would let this layer's
 * metadata changes alter theirs; such a target is materialised as a copy.
 */
export interface ApplyLayerOptions {
  sys: Pick<Syscalls, "mknod" | "lsetxattr" | "lgetxattr">;
  /** Snapshots of the layers below, topmost first, consulted for parents and hardlink targets. */
  lowerDirs?: readonly string[];
}

export interface ApplyLayerResult {
  /** sha256 of the uncompressed tar stream: the layer's diffID. */
  diffID: string;
  /** Uncompressed tar bytes read. */
  tarBytes: number;
  entries: number;
}

const WHITEOUT_PREFIX = ".wh.";
const WHITEOUT_META_PREFIX = ".wh..wh.";
const OPAQUE = ".wh..wh..opq";
const OPAQUE_XATTR = "trusted.overlay.opaque";
const MAX_SYMLINKS = 40;

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** Whether a snapshot's directory is opaque: overlayfs shows nothing of lower layers under it. */
export function isOpaqueDir(sys: Pick<Syscalls, "lgetxattr">, dir: string): boolean {
  const v = sys.lgetxattr(dir, OPAQUE_XATTR);
  return v !== null && v.toString() === "y";
}

/** Linux's makedev for 64-bit dev_t. */
export function makedev(major: number, minor: number): number {
  return (
    (minor & 0xff) +
    ((major & 0xfff) << 8) +
    (minor & ~0xff) * 2 ** 12 +
    Math.floor(major / 0x1000) * 2 ** 44
  );
}

/** Cleans a tar name rooted at "/": no empty, "." or ".." components; ".." stops at the root. */
export function cleanComponents(name: string): string[] {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out;
}

function layerError(entry: TarEntry | string, message: string): RuntimeError {
  const name = typeof entry === "string" ? entry : entry.name;
  return new RuntimeError("INVALID_ARGUMENT", `layer entry ${JSON.stringify(name)}: ${message}`, {
    entry: name,
  });
}

function lstat(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

interface DirTimes {
  path: string;
  mtime: number;
}

class LayerApplier {
  private readonly lowers: readonly string[];
  private readonly dirTimes: DirTimes[] = [];

  constructor(
    private readonly root: string,
    private readonly opts: ApplyLayerOptions,
  ) {
    this.lowers = opts.lowerDirs ?? [];
  }

  private host(rel: readonly string[]): string {
    return rel.length === 0 ? this.root : path.join(this.root, ...rel);
  }

  private isOpaque(p: string): boolean {
    return isOpaqueDir(this.opts.sys, p);
  }

  /**
   * What the merged view of the lower snapshots holds at `rel` (a path free of symlinks above its
   * last component): the lower path and its lstat, or undefined when absent or whited out.
   */
  lookupLower(rel: readonly string[]): { path: string; st: fs.Stats } | undefined {
    for (const lower of this.lowers) {
      let hiddenBelow = false;
      let missingHere = false;
      for (let i = 1; i <= rel.length; i++) {
        const p = path.join(lower, ...rel.slice(0, i));
        const st = lstat(p);
        if (st === undefined) {
          missingHere = true;
          break;
        }
        if (isWhiteout(st)) return undefined;
        if (i === rel.length) return { path: p, st };
        if (!st.isDirectory()) return undefined; // a file here hides everything below it
        if (this.isOpaque(p)) hiddenBelow = true;
      }
      if (rel.length === 0) return { path: lower, st: fs.lstatSync(lower) };
      if (hiddenBelow) return undefined;
      if (!missingHere) return undefined;
    }
    return undefined;
  }

  /**
   * Resolves `components` (a cleaned parent path) to a real directory inside the snapshot, following
   * symlinks scoped to the root; missing directories are created (copying a lower directory's
   * metadata when one exists) unless `create` is false, in which case undefined is returned.
   */
  resolveDir(components: readonly string[], entry: TarEntry, create = true): string[] | undefined {
    const work = [...components];
    const cur: string[] = [];
    let links = 0;
    while (work.length > 0) {
      const c = work.shift()!;
      if (c === "..") {
        cur.pop();
        continue;
      }
      if (c === "." || c === "") continue;
      const next = [...cur, c];
      const p = this.host(next);
      let st = lstat(p);
      let linkTarget: string | undefined;
      if (st === undefined) {
        const lower = this.lookupLower(next);
        if (lower?.st.isSymbolicLink()) linkTarget = fs.readlinkSync(lower.path);
        else if (lower?.st.isDirectory()) {
          if (!create) {
            cur.push(c);
            continue;
          }
          fs.mkdirSync(p, { mode: 0o755 });
          fs.lchownSync(p, lower.st.uid, lower.st.gid);
          fs.chmodSync(p, lower.st.mode & 0o7777);
          st = fs.lstatSync(p);
        } else if (lower !== undefined) {
          throw layerError(entry, `parent ${next.join("/")} is not a directory`);
        } else {
          if (!create) return undefined;
          fs.mkdirSync(p, { mode: 0o755 });
          fs.chmodSync(p, 0o755);
          st = fs.lstatSync(p);
        }
      } else if (st.isSymbolicLink()) {
        linkTarget = fs.readlinkSync(p);
      } else if (!st.isDirectory()) {
        throw layerError(entry, `parent ${next.join("/")} is not a directory`);
      }
      if (linkTarget !== undefined) {
        if (++links > MAX_SYMLINKS) throw layerError(entry, "too many levels of symbolic links");
        if (linkTarget.startsWith("/")) cur.length = 0;
        work.unshift(...linkTarget.split("/"));
        continue;
      }
      cur.push(c);
    }
    return cur;
  }

  private removeExisting(p: string, keepDir: boolean): void {
    const st = lstat(p);
    if (st === undefined) return;
    if (keepDir && st.isDirectory()) return;
    fs.rmSync(p, { recursive: true, force: true });
  }

  private applyMetadata(p: string, e: TarEntry): void {
    fs.lchownSync(p, e.uid, e.gid);
    // After chown, which clears setuid/setgid bits.
    if (e.type !== "symlink") fs.chmodSync(p, e.mode);
    for (const [name, value] of e.xattrs) {
      if (name.startsWith("trusted.overlay.")) continue;
      try {
        this.opts.sys.lsetxattr(p, name, value);
      } catch (err) {
        const errno = (err as { errnoName?: string }).errnoName;
        // Like containerd: a filesystem without that namespace is not a reason to fail the pull.
        if (errno !== "ENOTSUP" && errno !== "EOPNOTSUPP" && errno !== "EPERM") throw err;
      }
    }
    if (e.type === "dir") this.dirTimes.push({ path: p, mtime: e.mtime });
    else fs.lutimesSync(p, e.mtime, e.mtime);
  }

  /** Copies a lower snapshot's non-directory into this one (a hardlink that cannot be one). */
  private materialise(from: { path: string; st: fs.Stats }, to: string, e: TarEntry): void {
    const st = from.st;
    if (st.isDirectory()) throw layerError(e, "hardlink to a directory");
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from.path), to);
    else if (st.isFile()) fs.copyFileSync(from.path, to, fs.constants.COPYFILE_EXCL);
    else this.opts.sys.mknod(to, st.mode, st.rdev);
    fs.lchownSync(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) fs.chmodSync(to, st.mode & 0o7777);
    fs.lutimesSync(to, st.atime, st.mtime);
  }

  async apply(e: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const components = cleanComponents(e.name);
    if (components.length === 0) return; // "./" — the snapshot root keeps its own metadata
    const base = components[components.length - 1]!;
    const parentRel = this.resolveDir(components.slice(0, -1), e)!;
    const parent = this.host(parentRel);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE) {
        this.opts.sys.lsetxattr(parent, OPAQUE_XATTR, Buffer.from("y"));
        return;
      }
      if (base.startsWith(WHITEOUT_META_PREFIX)) return; // aufs bookkeeping (.wh..wh.plnk etc.)
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === "" || hidden === "." || hidden === "..") throw layerError(e, "bad whiteout");
      const target = path.join(parent, hidden);
      this.removeExisting(target, false);
      this.opts.sys.mknod(target, S_IFCHR, 0);
      return;
    }

    const target = path.join(parent, base);
    this.removeExisting(target, e.type === "dir");
    switch (e.type) {
      case "dir":
        if (lstat(target) === undefined) fs.mkdirSync(target, { mode: 0o700 });
        break;
      case "file": {
        const flags =
          fs.constants.O_WRONLY |
          fs.constants.O_CREAT |
          fs.constants.O_EXCL |
          fs.constants.O_NOFOLLOW;
        const fd = fs.openSync(target, flags, 0o600);
        try {
          for await (const chunk of body) {
            let off = 0;
            while (off < chunk.length) off += fs.writeSync(fd, chunk, off);
          }
        } finally {
          fs.closeSync(fd);
        }
        break;
      }
      case "symlink":
        fs.symlinkSync(e.linkname, target);
        break;
      case "hardlink": {
        const linkComponents = cleanComponents(e.linkname);
        if (linkComponents.length === 0) throw layerError(e, "hardlink to the root directory");
        const linkParent = this.resolveDir(linkComponents.slice(0, -1), e, false);
        const linkRel = linkParent && [...linkParent, linkComponents[linkComponents.length - 1]!];
        const here = linkRel && lstat(this.host(linkRel));
        if (linkRel && here) {
          if (here.isDirectory()) throw layerError(e, "hardlink to a directory");
          fs.linkSync(this.host(linkRel), target);
          return; // a hardlink shares its target's inode and metadata
        }
        const lower = linkRel && this.lookupLower(linkRel);
        if (!lower) throw layerError(e, `hardlink target ${JSON.stringify(e.linkname)} not found`);
        this.materialise(lower, target, e);
        return;
      }
      case "char":
      case "block":
      case "fifo": {
        const kind = e.type === "char" ? S_IFCHR : e.type === "block" ? S_IFBLK : S_IFIFO;
        this.opts.sys.mknod(target, kind | (e.mode & 0o777), makedev(e.devmajor, e.devminor));
        break;
      }
    }
    this.applyMetadata(target, e);
  }

  /** Directory times last: creating their children changed them. */
  finish(): void {
    for (const d of this.dirTimes.reverse()) fs.lutimesSync(d.path, d.mtime, d.mtime);
  }
}

/**
 * Unpacks a layer blob's bytes into `dest` (an existing, normally empty directory) and returns the
 * diffID computed over the uncompressed stream. The caller checks it against the image config.
 */
export async function applyLayer(
  dest: string,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ApplyLayerOptions,
): Promise<ApplyLayerResult> {
  const { tar } = await decompressLayer(source);
  const hash = sha256();
  const counter = { bytes: 0 };
  const applier = new LayerApplier(dest, opts);
  let entries = 0;
  for await (const { entry, body } of readTar(hashTap(tar, hash, counter))) {
    await applier.apply(entry, body);
    entries++;
  }
  applier.finish();
  return { diffID: `sha256:${hash.digest("hex")}`, tarBytes: counter.bytes, entries };
}
