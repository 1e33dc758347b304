import { randomBytes } from "node:crypto";
import { chown, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** File mode, applied before any content is written (so secrets are never briefly readable). */
  mode: number;
  /** Owner to give the file, when it must belong to another user than the caller. */
  owner?: { uid: number; gid: number };
}

/**
 * Replaces `path` with `content` all at once: write a temporary file beside it, fsync, rename,
 * fsync the directory. A crash leaves either the old file or the new one, never half of one.
 */
export async function writeFileAtomic(
  path: string,
  content: string,
  options: AtomicWriteOptions,
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  const file = await open(temp, "wx", options.mode);
  try {
    try {
      await file.chmod(options.mode); // the umask may have narrowed or widened open()'s mode
      if (options.owner !== undefined) await file.chown(options.owner.uid, options.owner.gid);
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename or a new entry in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Gives `path` to `owner`, skipping the call when no owner change is needed. */
export async function chownTo(
  path: string,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  if (owner !== undefined) await chown(path, owner.uid, owner.gid);
}
