import { join } from "node:path";
import { RuntimeError } from "../errors.ts";
import type { CgroupDriverDeps } from "./cgroup-driver.ts";
import type { CgroupFs } from "./cgroup-fs.ts";
import { errnoOf, parsePidList, readOptionalCgroupFile, rmdirCgroup } from "./cgroup-io.ts";

/** Poll interval while waiting for killed processes to leave a group. */
const POLL_MS = 10;

/** A group and every group below it, children before parents (the order rmdir needs). */
export function subtreeDeepestFirst(fs: CgroupFs, dir: string): string[] {
  if (!fs.exists(dir)) return [];
  const out: string[] = [];
  let entries: { name: string; isDirectory: boolean }[] = [];
  try {
    entries = fs.readdir(dir);
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
    return [];
  }
  for (const entry of entries) {
    if (entry.isDirectory) out.push(...subtreeDeepestFirst(fs, join(dir, entry.name)));
  }
  out.push(dir);
  return out;
}

/** Every pid in a group and the groups below it. */
export function pidsInSubtree(fs: CgroupFs, dir: string): number[] {
  const pids: number[] = [];
  for (const group of subtreeDeepestFirst(fs, dir)) {
    const text = readOptionalCgroupFile(fs, join(group, "cgroup.procs"));
    if (text !== undefined) pids.push(...parsePidList(text));
  }
  return pids;
}

/** Names of the child groups of a directory (empty if it does not exist). */
export function childGroups(fs: CgroupFs, dir: string): string[] {
  if (!fs.exists(dir)) return [];
  return fs
    .readdir(dir)
    .filter((e) => e.isDirectory)
    .map((e) => e.name);
}

function sigkill(deps: CgroupDriverDeps, pid: number): void {
  try {
    deps.kill(pid, "SIGKILL");
  } catch (error) {
    // Gone already (ESRCH) is the outcome we want.
    const errno = errnoOf(error);
    if (errno !== "ESRCH") {
      throw new RuntimeError(
        "CGROUP_FAILED",
        `kill -KILL ${pid} failed: ${errno}`,
        { pid, errno },
        {
          cause: error,
        },
      );
    }
  }
}

/** SIGKILLs every process listed in the groups (and below); returns how many were signalled. */
export function sigkillAll(deps: CgroupDriverDeps, dirs: readonly string[]): number {
  const pids = new Set(dirs.flatMap((dir) => pidsInSubtree(deps.fs, dir)));
  for (const pid of pids) sigkill(deps, pid);
  return pids.size;
}

/**
 * SIGKILLs every process in the groups (and below) until they are empty: each round re-reads the
 * lists, so a child forked between the read and the kill is caught in the next round.
 */
export async function killUntilEmpty(
  deps: CgroupDriverDeps,
  dirs: readonly string[],
  timeoutMs: number,
): Promise<void> {
  let waited = 0;
  for (;;) {
    const pids = new Set(dirs.flatMap((dir) => pidsInSubtree(deps.fs, dir)));
    if (pids.size === 0) return;
    if (waited >= timeoutMs) {
      throw new RuntimeError(
        "CGROUP_FAILED",
        `cgroup ${dirs[0]} still has processes ${[...pids].join(", ")} after ${timeoutMs} ms of SIGKILL (uninterruptible sleep?)`,
        { paths: dirs, pids: [...pids] },
      );
    }
    for (const pid of pids) sigkill(deps, pid);
    await deps.sleep(POLL_MS);
    waited += POLL_MS;
  }
}

/**
 * Removes the groups and their descendants, deepest first; already-gone groups are fine. EBUSY is
 * retried because the kernel can report a group busy for a moment after its last task exits.
 */
export async function removeSubtrees(
  deps: CgroupDriverDeps,
  dirs: readonly string[],
  timeoutMs: number,
): Promise<void> {
  for (const dir of dirs) {
    for (const group of subtreeDeepestFirst(deps.fs, dir)) {
      let waited = 0;
      for (;;) {
        try {
          rmdirCgroup(deps.fs, group);
          break;
        } catch (error) {
          const errno = (error as RuntimeError).context?.errno;
          if (errno !== "EBUSY" || waited >= timeoutMs) throw error;
          await deps.sleep(POLL_MS);
          waited += POLL_MS;
        }
      }
    }
  }
}
