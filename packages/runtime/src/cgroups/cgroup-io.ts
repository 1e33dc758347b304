import { RuntimeError } from "../errors.ts";
import type { CgroupFs } from "./cgroup-fs.ts";

/** What an errno usually means for a cgroupfs operation, so the error line says what to do. */
const HINTS: Record<string, string> = {
  EBUSY: "the group is in use (usage above the new limit, processes or child groups remain)",
  EINVAL: "the kernel rejected the value",
  ENOENT: "missing file or group (controller not enabled, or the group is gone)",
  EACCES: "permission denied (cgroups need root)",
  EPERM: "operation not permitted (cgroups need root)",
  ENOSPC: "no room in the group (cpuset empty or limit reached)",
  ENOTEMPTY: "the group still has child groups",
  ESRCH: "no such process",
  EROFS: "the cgroup filesystem is mounted read-only",
};

export function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "EIO";
}

function failure(what: string, path: string, error: unknown, context: Record<string, unknown>) {
  const errno = errnoOf(error);
  const hint = HINTS[errno];
  return new RuntimeError(
    "CGROUP_FAILED",
    `${what} failed: ${errno}${hint ? ` (${hint})` : ""}`,
    { path, errno, ...context },
    { cause: error },
  );
}

/** Writes one value; failures name the value, the file and the errno. */
export function writeCgroupFile(fs: CgroupFs, path: string, value: string): void {
  try {
    fs.writeFile(path, value);
  } catch (error) {
    throw failure(`write ${value} to ${path}`, path, error, { value });
  }
}

export function readCgroupFile(fs: CgroupFs, path: string): string {
  try {
    return fs.readFile(path);
  } catch (error) {
    throw failure(`read ${path}`, path, error, {});
  }
}

/** Reads a file that a kernel may not have (memory.peak, cpuacct.usage_user); undefined if absent. */
export function readOptionalCgroupFile(fs: CgroupFs, path: string): string | undefined {
  try {
    return fs.readFile(path);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw failure(`read ${path}`, path, error, {});
  }
}

/** Creates a group directory; returns false if it already existed. */
export function mkdirCgroup(fs: CgroupFs, path: string): boolean {
  try {
    fs.mkdir(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return false;
    throw failure(`mkdir ${path}`, path, error, {});
  }
}

/** Removes a group directory; returns false if it was already gone. */
export function rmdirCgroup(fs: CgroupFs, path: string): boolean {
  try {
    fs.rmdir(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw failure(`rmdir ${path}`, path, error, {});
  }
}

/** Renames a group directory; a group already at `newPath` is a CONFLICT, not replaced. */
export function renameCgroup(fs: CgroupFs, path: string, newPath: string): void {
  if (fs.exists(newPath)) {
    throw new RuntimeError("CONFLICT", `cgroup ${newPath} already exists`, { path: newPath });
  }
  try {
    fs.rename(path, newPath);
  } catch (error) {
    throw failure(`rename ${path} to ${newPath}`, path, error, { newPath });
  }
}

/** Parses cgroup.procs: one pid per line. */
export function parsePidList(text: string): number[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => Number.parseInt(line, 10))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}
