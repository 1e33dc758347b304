import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import { isSameProcessAlive } from "./host-process.ts";

const ZYGOTE_GROUP = /^zygote-(\d+)$/;

/** The cgroup a waiting zygote sits in; a container's group replaces it when the zygote is used. */
export function zygoteGroup(pid: number): string {
  return `zygote-${pid}`;
}

/**
 * Removes the `zygote-<pid>` groups left by an engine that died without closing its pool (SIGKILL,
 * crash): its idle zygotes exit with it (their control socket closes), their groups stay. A group
 * is an orphan when no process is in it, or (if it cannot be read) when its pid is gone; a live
 * zygote of another engine under the same parent is left alone. Returns the names removed.
 */
export async function removeOrphanZygoteGroups(cgroups: CgroupDriver): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await cgroups.list()) {
    const pid = ZYGOTE_GROUP.exec(name)?.[1];
    if (pid === undefined) continue;
    const members = await cgroups.pids(name).catch(() => null);
    const orphan = members === null ? !isSameProcessAlive(Number(pid), null) : members.length === 0;
    if (!orphan) continue;
    try {
      await cgroups.destroy(name, { timeoutMs: 1000 });
      removed.push(name);
    } catch (e) {
      process.emitWarning(`removing the orphaned zygote group ${name}: ${(e as Error).message}`);
    }
  }
  return removed;
}
