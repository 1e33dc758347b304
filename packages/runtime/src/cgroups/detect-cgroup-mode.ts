import { availableParallelism } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { RuntimeConfig } from "../config.ts";
import { RuntimeError } from "../errors.ts";
import type { CgroupDriver, CgroupDriverDeps } from "./cgroup-driver.ts";
import { type CgroupFs, NodeCgroupFs } from "./cgroup-fs.ts";
import { readOptionalCgroupFile } from "./cgroup-io.ts";
import { CgroupV1Driver, V1_CONTROLLERS, type V1Controller } from "./cgroup-v1-driver.ts";
import { CgroupV2Driver } from "./cgroup-v2-driver.ts";

/** Which cgroup layout a host has, and where the hierarchies the engine uses are. */
export type CgroupMode =
  | { version: "v2"; root: string }
  | {
      version: "v1";
      /** Controller → hierarchy root, symlinks resolved (co-mounted controllers share one). */
      hierarchies: Partial<Record<V1Controller, string>>;
      /** The controller-less v2 hierarchy of a hybrid host (systemd's), if any. */
      unified?: string;
    };

function isV2Root(fs: CgroupFs, dir: string): boolean {
  return fs.exists(join(dir, "cgroup.controllers"));
}

function v2Controllers(fs: CgroupFs, dir: string): string[] {
  const text = readOptionalCgroupFile(fs, join(dir, "cgroup.controllers")) ?? "";
  return text.split(/\s+/).filter((w) => w !== "");
}

/**
 * Reads the layout under `root` (normally /sys/fs/cgroup): pure v2 when it holds cgroup.controllers;
 * v1 (or hybrid) when it holds per-controller hierarchies such as memory/ or cpu,cpuacct/; v2 at
 * root/unified when that is the only hierarchy with controllers.
 */
export function detectCgroupMode(fs: CgroupFs, root: string): CgroupMode {
  if (isV2Root(fs, root)) return { version: "v2", root };
  let entries: string[];
  try {
    entries = fs.readdir(root).map((e) => e.name);
  } catch (error) {
    throw new RuntimeError(
      "CGROUP_FAILED",
      `cannot list cgroup root ${root}`,
      { root },
      { cause: error },
    );
  }
  const hierarchies: Partial<Record<V1Controller, string>> = {};
  for (const entry of entries.sort()) {
    const dir = join(root, entry);
    const controllers = entry
      .split(",")
      .filter((c): c is V1Controller => (V1_CONTROLLERS as readonly string[]).includes(c));
    if (controllers.length === 0) continue;
    if (!fs.exists(join(dir, "cgroup.procs")) || isV2Root(fs, dir)) continue;
    const real = fs.realpath(dir);
    for (const c of controllers) hierarchies[c] ??= real;
  }
  const unifiedDir = join(root, "unified");
  const unified = isV2Root(fs, unifiedDir) ? unifiedDir : undefined;
  if (Object.keys(hierarchies).length > 0) {
    return { version: "v1", hierarchies, ...(unified ? { unified } : {}) };
  }
  if (unified && v2Controllers(fs, unified).length > 0) return { version: "v2", root: unified };
  throw new RuntimeError(
    "CGROUP_FAILED",
    `no cgroup hierarchy with controllers found under ${root} (neither cgroup.controllers nor v1 controller directories)`,
    { root },
  );
}

/** The host's real filesystem, signals, timers and CPU count. */
export function defaultCgroupDriverDeps(): CgroupDriverDeps {
  return {
    fs: new NodeCgroupFs(),
    kill: (pid, signal) => {
      process.kill(pid, signal);
    },
    sleep: (ms) => sleep(ms),
    hostCpus: availableParallelism(),
  };
}

/** Picks the v1 or v2 driver from the filesystem under config.cgroupRoot. */
export function detectCgroupDriver(
  config: Pick<RuntimeConfig, "cgroupRoot" | "cgroupParent">,
  deps: Partial<CgroupDriverDeps> = {},
): CgroupDriver {
  const full: CgroupDriverDeps = { ...defaultCgroupDriverDeps(), ...deps };
  const mode = detectCgroupMode(full.fs, config.cgroupRoot);
  return mode.version === "v2"
    ? new CgroupV2Driver({ root: mode.root, parent: config.cgroupParent, deps: full })
    : new CgroupV1Driver({
        hierarchies: mode.hierarchies,
        parent: config.cgroupParent,
        deps: full,
      });
}
