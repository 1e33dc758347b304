import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import { CgroupV1Driver } from "../cgroups/cgroup-v1-driver.ts";
import { CgroupV2Driver } from "../cgroups/cgroup-v2-driver.ts";
import { detectCgroupMode } from "../cgroups/detect-cgroup-mode.ts";
import { makeScratchDir, ScratchCgroupFs } from "../cgroups/scratch-cgroup-fs.ts";
import { removeOrphanZygoteGroups, zygoteGroup } from "./zygote-group.ts";

let dir: string;
beforeEach(() => {
  dir = makeScratchDir("berth-zygote-groups-");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const drivers: Record<string, () => CgroupDriver> = {
  v1: () => {
    const fs = ScratchCgroupFs.v1(join(dir, "v1"));
    const mode = detectCgroupMode(fs, fs.root);
    if (mode.version !== "v1") throw new Error("expected v1");
    return new CgroupV1Driver({ hierarchies: mode.hierarchies, parent: "berth", deps: fs.deps(2) });
  },
  v2: () => {
    const fs = ScratchCgroupFs.v2(join(dir, "v2"));
    return new CgroupV2Driver({ root: fs.root, parent: "berth", deps: fs.deps(2) });
  },
};

describe.each(Object.keys(drivers))("removeOrphanZygoteGroups (cgroup %s)", (version) => {
  it("removes the empty zygote groups of a dead engine, keeps live zygotes and containers", async () => {
    const cgroups = drivers[version]!();
    const deadPid = 4_194_305; // above any pid_max: never a live process
    const livePid = process.pid;
    await cgroups.create(zygoteGroup(deadPid));
    await cgroups.create(zygoteGroup(livePid));
    await cgroups.addProcess(zygoteGroup(livePid), livePid);
    await cgroups.create("c1"); // a container's group, even empty, is not the sweep's business
    expect(await cgroups.list()).toEqual(["c1", "zygote-4194305", `zygote-${livePid}`].sort());

    expect(await removeOrphanZygoteGroups(cgroups)).toEqual(["zygote-4194305"]);
    expect(await cgroups.list()).toEqual(["c1", `zygote-${livePid}`].sort());
    expect(await cgroups.pids(zygoteGroup(livePid))).toEqual([livePid]);
    // Idempotent: nothing more to remove.
    expect(await removeOrphanZygoteGroups(cgroups)).toEqual([]);
  });

  it("lists nothing when the parent does not exist yet", async () => {
    const cgroups = drivers[version]!();
    expect(await cgroups.list()).toEqual([]);
    expect(await removeOrphanZygoteGroups(cgroups)).toEqual([]);
  });
});
