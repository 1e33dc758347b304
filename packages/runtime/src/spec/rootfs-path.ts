import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
} from "node:fs";
import { posix } from "node:path";
import { RuntimeError } from "../errors.ts";
import { resolveInRoot } from "./resolve-in-root.mjs";

/**
 * The host path of `path` inside the root filesystem `rootfs`, resolving symlinks as if `rootfs`
 * were `/`: absolute links restart at `rootfs`, and `..` never climbs above it (like
 * filepath-securejoin). Components that do not exist are appended as they are. Throws
 * INVALID_ARGUMENT after 40 links (ELOOP). The zygote runs the same resolver for mount targets.
 */
export function resolveInRootfs(rootfs: string, path: string): string {
  try {
    return resolveInRoot(posix.resolve(rootfs), path, readlinkOrNull);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") {
      throw new RuntimeError("INVALID_ARGUMENT", (e as Error).message);
    }
    throw e;
  }
}

function readlinkOrNull(hostPath: string): string | null {
  try {
    return lstatSync(hostPath).isSymbolicLink() ? readlinkSync(hostPath) : null;
  } catch {
    return null;
  }
}

const MAX_ETC_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Reads a regular file of the rootfs (symlinks resolved inside it), or undefined when it does not
 * exist. Anything but a regular file, or a file over 16 MiB, is refused: the rootfs is untrusted.
 */
export function readRootfsFile(rootfs: string, path: string): string | undefined {
  const hostPath = resolveInRootfs(rootfs, path);
  let fd: number;
  try {
    fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `cannot read ${path} in ${rootfs}: ${(e as Error).message}`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new RuntimeError("INVALID_ARGUMENT", `${path} in ${rootfs} is not a regular file`);
    if (st.size > MAX_ETC_FILE_BYTES)
      throw new RuntimeError("INVALID_ARGUMENT", `${path} in ${rootfs} is too large`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** An image's layer snapshots (topmost first), read as overlayfs would merge them. */
export interface LayeredRoot {
  lowerDirs: readonly string[];
  /** Whether a layer's directory is opaque (hides what lower layers hold under it). */
  isOpaque(hostDir: string): boolean;
}

/**
 * Reads a file of an image's merged tree without mounting it: the topmost layer that has the path
 * wins; a whiteout (a 0/0 character device) of the path or of a parent in a higher layer hides
 * it, and so does an opaque parent directory in a higher layer. Symlinks (the file or a parent)
 * resolve within the topmost layer holding them — enough for /etc/passwd and /etc/group, which is
 * what this serves; the running container sees the real overlay.
 */
export function readLayeredFile(root: LayeredRoot, path: string): string | undefined {
  const parts = posix.normalize(`/${path}`).split("/").filter(Boolean);
  for (const layer of root.lowerDirs) {
    let opaque = false;
    for (let i = 1; i <= parts.length; i++) {
      const hostPath = posix.join(layer, ...parts.slice(0, i));
      const st = lstatSync(hostPath, { throwIfNoEntry: false });
      if (!st) break;
      if (st.isCharacterDevice() && st.rdev === 0) return undefined;
      if (i === parts.length || st.isSymbolicLink()) return readRootfsFile(layer, path);
      // A file where a parent directory should be: the path does not exist in the merged tree.
      if (!st.isDirectory()) return undefined;
      opaque ||= root.isOpaque(hostPath);
    }
    // This layer's opaque directory above the path hides the layers below it.
    if (opaque) return undefined;
  }
  return undefined;
}
