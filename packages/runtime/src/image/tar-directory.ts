import fs from "node:fs";
import path from "node:path";
import type { Syscalls } from "../sys/syscalls.ts";
import type { TarEntryType } from "./tar-reader.ts";
import { TAR_END, tarHeader, tarPadding } from "./tar-writer.ts";

/**
 * Streams a directory tree as a layer tar (what `image import DIR` stores): entries in sorted
 * order, names relative without a leading "./", modes, owners, whole-second mtimes (moby truncates
 * them too, for reproducible layers), xattrs as PAX `SCHILY.xattr.*`, the second and later paths
 * of a multiply-linked inode as hardlinks, devices and fifos as such. Sockets are skipped. The
 * root directory itself is not an entry (a snapshot root keeps the store's metadata).
 */
export interface TarDirectoryOptions {
  sys: Pick<Syscalls, "llistxattr" | "lgetxattr">;
  /** Relative paths (no leading "/") to leave out, with everything under them. */
  exclude?: readonly string[];
  /**
   * The tree is an overlayfs upper dir (a container's writable layer): 0/0 character devices
   * become `.wh.<name>` whiteouts, `trusted.overlay.opaque=y` directories get `.wh..wh..opq`, and
   * overlay's own `trusted.overlay.*` xattrs are left out — an OCI layer diff (container commit,
   * build steps). Our overlays are mounted without redirect_dir and metacopy, so an upper dir
   * holds whole files and directories.
   */
  overlayUpper?: boolean;
}

const OVERLAY_XATTR = "trusted.overlay.";
const OPAQUE = "trusted.overlay.opaque";

function major(dev: number): number {
  return Math.floor(dev / 2 ** 8) & 0xfff;
}
function minor(dev: number): number {
  return (dev & 0xff) | (Math.floor(dev / 2 ** 12) & 0xfff00);
}

function kind(st: fs.Stats): TarEntryType | undefined {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return undefined;
}

export async function* tarDirectory(
  root: string,
  opts: TarDirectoryOptions,
): AsyncGenerator<Buffer> {
  const excluded = new Set(opts.exclude ?? []);
  const inodes = new Map<string, string>();
  const chunk = Buffer.alloc(256 * 1024);

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const names = fs.readdirSync(path.join(root, rel)).sort();
    for (const name of names) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      if (excluded.has(childRel)) continue;
      const p = path.join(root, childRel);
      const st = fs.lstatSync(p);
      const type = kind(st);
      if (type === undefined) continue;
      if (opts.overlayUpper && type === "char" && st.rdev === 0) {
        const whiteout = rel === "" ? `.wh.${name}` : `${rel}/.wh.${name}`;
        yield tarHeader({ name: whiteout, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0 });
        continue;
      }
      const xattrs = new Map<string, Buffer>();
      let opaque = false;
      for (const x of opts.sys.llistxattr(p)) {
        const v = opts.sys.lgetxattr(p, x);
        if (opts.overlayUpper && x.startsWith(OVERLAY_XATTR)) {
          if (x === OPAQUE && v?.toString() === "y") opaque = true;
          continue;
        }
        if (v !== null) xattrs.set(x, v);
      }
      const common = {
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: Math.floor(st.mtimeMs / 1000),
        xattrs,
      };
      const key = `${st.dev}:${st.ino}`;
      const first = type !== "dir" && st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        yield tarHeader({ ...common, name: childRel, type: "hardlink", linkname: first });
        continue;
      }
      if (type !== "dir" && st.nlink > 1) inodes.set(key, childRel);
      switch (type) {
        case "dir":
          yield tarHeader({ ...common, name: `${childRel}/`, type });
          if (opaque) {
            const marker = `${childRel}/.wh..wh..opq`;
            yield tarHeader({ name: marker, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0 });
          }
          yield* walk(childRel);
          break;
        case "symlink":
          yield tarHeader({ ...common, name: childRel, type, linkname: fs.readlinkSync(p) });
          break;
        case "char":
        case "block":
          yield tarHeader({
            ...common,
            name: childRel,
            type,
            devmajor: major(st.rdev),
            devminor: minor(st.rdev),
          });
          break;
        case "fifo":
          yield tarHeader({ ...common, name: childRel, type });
          break;
        case "file": {
          yield tarHeader({ ...common, name: childRel, type, size: st.size });
          const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
          try {
            let left = st.size;
            while (left > 0) {
              const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, left), null);
              if (n === 0) throw new Error(`${p} shrank while being archived`);
              left -= n;
              yield Buffer.from(chunk.subarray(0, n));
            }
          } finally {
            fs.closeSync(fd);
          }
          yield tarPadding(st.size);
          break;
        }
      }
    }
  }

  yield* walk("");
  yield TAR_END;
}
