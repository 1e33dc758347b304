import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RuntimeError } from "../errors.ts";
import { CgroupV1Driver } from "./cgroup-v1-driver.ts";
import { CgroupV2Driver } from "./cgroup-v2-driver.ts";
import { detectCgroupDriver, detectCgroupMode } from "./detect-cgroup-mode.ts";
import { makeScratchDir, ScratchCgroupFs } from "./scratch-cgroup-fs.ts";

let dir: string;
beforeEach(() => {
  dir = makeScratchDir("berth-cgroups-detect-");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("detectCgroupMode", () => {
  it("finds pure v2 by cgroup.controllers at the root", () => {
    const fs = ScratchCgroupFs.v2(join(dir, "cg"));
    expect(detectCgroupMode(fs, fs.root)).toEqual({ version: "v2", root: fs.root });
    const driver = detectCgroupDriver({ cgroupRoot: fs.root, cgroupParent: "berth" }, fs.deps());
    expect(driver).toBeInstanceOf(CgroupV2Driver);
    expect(driver.paths("abc")).toEqual({ unified: join(fs.root, "berth", "abc") });
  });

  it("finds v1 hierarchies on a hybrid host and keeps the controller-less unified aside", () => {
    const fs = ScratchCgroupFs.v1(join(dir, "cg"));
    const mode = detectCgroupMode(fs, fs.root);
    expect(mode).toEqual({
      version: "v1",
      hierarchies: {
        cpu: join(fs.root, "cpu"),
        cpuacct: join(fs.root, "cpuacct"),
        devices: join(fs.root, "devices"),
        freezer: join(fs.root, "freezer"),
        memory: join(fs.root, "memory"),
        pids: join(fs.root, "pids"),
      },
      unified: join(fs.root, "unified"),
    });
    const driver = detectCgroupDriver({ cgroupRoot: fs.root, cgroupParent: "berth" }, fs.deps());
    expect(driver).toBeInstanceOf(CgroupV1Driver);
  });

  it("resolves co-mounted cpu,cpuacct (with and without the systemd symlinks) to one hierarchy", () => {
    for (const symlinks of [true, false]) {
      const root = join(dir, `cg-${symlinks}`);
      const fs = ScratchCgroupFs.v1(root, {
        mounts: [["memory"], ["cpu", "cpuacct"], ["net_cls", "net_prio"], ["pids"], ["devices"]],
        symlinks,
        unified: false,
      });
      const mode = detectCgroupMode(fs, fs.root);
      expect(mode.version).toBe("v1");
      if (mode.version !== "v1") return;
      expect(mode.hierarchies.cpu).toBe(join(fs.root, "cpu,cpuacct"));
      expect(mode.hierarchies.cpuacct).toBe(join(fs.root, "cpu,cpuacct"));
      expect(mode.hierarchies.freezer).toBeUndefined();
      expect(mode.unified).toBeUndefined();
    }
  });

  it("uses root/unified when it is the only hierarchy with controllers", () => {
    const root = join(dir, "cg");
    mkdirSync(join(root, "unified"), { recursive: true });
    writeFileSync(join(root, "unified", "cgroup.controllers"), "memory pids\n");
    const fs = ScratchCgroupFs.v1(join(dir, "unused"));
    expect(detectCgroupMode(fs, root)).toEqual({ version: "v2", root: join(root, "unified") });
  });

  it("fails clearly when there is no cgroup filesystem", () => {
    const fs = ScratchCgroupFs.v1(join(dir, "unused"));
    mkdirSync(join(dir, "empty"));
    expect(() => detectCgroupMode(fs, join(dir, "empty"))).toThrow(
      /no cgroup hierarchy with controllers found under/,
    );
    try {
      detectCgroupMode(fs, join(dir, "missing"));
      expect.unreachable();
    } catch (error) {
      expect((error as RuntimeError).code).toBe("CGROUP_FAILED");
    }
  });
});
