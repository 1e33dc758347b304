import { RuntimeError } from "../errors.ts";
import type { CgroupFs } from "./cgroup-fs.ts";
import type { CgroupResources } from "./resources.ts";

export type CgroupVersion = "v1" | "v2";

/** A snapshot of one container's group; `null` limits mean unlimited, `null` counters unknown. */
export interface CgroupStats {
  memory: {
    usageBytes: number;
    limitBytes: number | null;
    /** High-water mark (v1 memory.max_usage_in_bytes, v2 memory.peak where the kernel has it). */
    maxUsageBytes: number | null;
    /** Page cache that can be dropped; `docker stats` shows usage minus this. */
    inactiveFileBytes: number;
  };
  cpu: {
    usageNs: number;
    userNs: number | null;
    systemNs: number | null;
    /** CFS periods elapsed, periods in which the group was throttled, and time throttled. */
    periods: number;
    throttledPeriods: number;
    throttledNs: number;
  };
  pids: {
    current: number;
    limit: number | null;
  };
}

/** Where a container's group lives: controller (v1) or "unified" (v2) → directory. */
export type CgroupPaths = Record<string, string>;

export interface DestroyOptions {
  /** How long to wait for killed processes to leave the group; default 10 s. */
  timeoutMs?: number;
}

/**
 * One container's cgroup on one host, whatever the cgroup version. Names are the container's
 * group below the configured parent (`<cgroupParent>/<name>`), created in every hierarchy.
 */
export interface CgroupDriver {
  readonly version: CgroupVersion;
  /** Creates `<parent>/<name>` (and the parent if needed) and applies resources; undoes itself on failure. */
  create(name: string, resources?: CgroupResources): Promise<void>;
  /**
   * Renames a group (in every hierarchy) with its processes in it: far cheaper than moving a
   * multi-threaded process between v1 groups. All or nothing; CONFLICT if `to` exists.
   */
  rename(from: string, to: string): Promise<void>;
  /** Moves a process (and so its future children) into the group. */
  addProcess(name: string, pid: number): Promise<void>;
  /** Changes the given limits of an existing group; omitted fields stay as they are. */
  update(name: string, resources: CgroupResources): Promise<void>;
  /** Reads memory, CPU and pids usage and limits. */
  stats(name: string): Promise<CgroupStats>;
  /** How many processes the kernel's OOM killer has killed in the group (for `OOMKilled`). */
  oomKillCount(name: string): Promise<number>;
  /** The pids of the processes in the group (not in its child groups). */
  pids(name: string): Promise<number[]>;
  /** Stops every process in the group until thaw(). */
  freeze(name: string): Promise<void>;
  /** Resumes a frozen group. */
  thaw(name: string): Promise<void>;
  /** Kills any processes left, waits for the group to empty and removes it everywhere; ok if gone. */
  destroy(name: string, options?: DestroyOptions): Promise<void>;
  /** Removes the parent group if no container group is left in it; true if it is gone. */
  destroyParentIfEmpty(): Promise<boolean>;
  /** Whether the group exists. */
  exists(name: string): Promise<boolean>;
  /** The names of the groups below the parent (in any hierarchy), sorted. */
  list(): Promise<string[]>;
  /** The group's directories, for inspect. */
  paths(name: string): CgroupPaths;
}

/** What the drivers need from the host, injectable for tests. */
export interface CgroupDriverDeps {
  fs: CgroupFs;
  /** Sends a signal to one process; ESRCH (already gone) is ignored by the drivers. */
  kill: (pid: number, signal: NodeJS.Signals) => void;
  sleep: (ms: number) => Promise<void>;
  /** Number of CPUs on the host, the ceiling for `cpus`. */
  hostCpus: number;
}

/** Container group names: one path element, no dots first, like container IDs and names. */
export const CGROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Throws INVALID_ARGUMENT unless the name is one safe path element. */
export function assertCgroupName(name: string): void {
  if (!CGROUP_NAME_PATTERN.test(name)) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid cgroup name ${JSON.stringify(name)}: use 1-128 of A-Z a-z 0-9 _ . -, starting with a letter or digit`,
      { name },
    );
  }
}
