import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import { CgroupV2Driver } from "./cgroup-v2-driver.ts";
import { makeScratchDir, ScratchCgroupFs, type ScratchV2Options } from "./scratch-cgroup-fs.ts";

const MiB = 1024 * 1024;
let dir: string;
let fs: ScratchCgroupFs;

function driverFor(options: ScratchV2Options = {}): CgroupV2Driver {
  fs = ScratchCgroupFs.v2(join(dir, `cg${Math.random().toString(16).slice(2)}`), options);
  return new CgroupV2Driver({ root: fs.root, parent: "berth", deps: fs.deps(2) });
}

const read = (...parts: string[]) => readFileSync(join(fs.root, ...parts), "utf8").trim();
const parent = () => join(fs.root, "berth");
const g = (file = "") => join(fs.root, "berth", "c1", file);

async function rejection(promise: Promise<unknown>): Promise<RuntimeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return error as RuntimeError;
  }
  throw new Error("expected a rejection");
}

beforeEach(() => {
  dir = makeScratchDir("berth-cgroups-v2-");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("CgroupV2Driver.create", () => {
  it("enables controllers top-down, creates parent and group, writes the limits", async () => {
    const driver = driverFor({ rootSubtreeControl: [] });
    await driver.create("c1", {
      memoryBytes: 64 * MiB,
      memoryReservationBytes: 16 * MiB,
      cpus: 0.5,
      cpuShares: 1024,
      pidsLimit: 20,
    });
    expect(fs.writes.map((w) => `${w.path.slice(fs.root.length)}=${w.value}`)).toEqual([
      "/cgroup.subtree_control=+cpu",
      "/cgroup.subtree_control=+memory",
      "/cgroup.subtree_control=+pids",
      "/berth/cgroup.subtree_control=+cpu",
      "/berth/cgroup.subtree_control=+memory",
      "/berth/cgroup.subtree_control=+pids",
      "/berth/c1/memory.max=67108864",
      "/berth/c1/memory.swap.max=0",
      "/berth/c1/memory.low=16777216",
      "/berth/c1/cpu.max=50000 100000",
      "/berth/c1/cpu.weight=39",
      "/berth/c1/pids.max=20",
    ]);
    expect(read("berth/c1/cgroup.controllers")).toBe("cpu memory pids");
    expect(read("berth/c1/memory.max")).toBe("67108864");
    expect(read("berth/c1/memory.swap.max")).toBe("0");
    expect(read("berth/c1/cpu.max")).toBe("50000 100000");
    expect(read("berth/c1/pids.max")).toBe("20");
    // cpuset and io stay off: the engine sets nothing there.
    expect(read("berth/cgroup.subtree_control")).toBe("cpu memory pids");
  });

  it("writes only missing controllers and nothing at the root when all are enabled", async () => {
    const driver = driverFor({ rootSubtreeControl: ["cpu", "io", "memory", "pids"] });
    await driver.create("c1");
    await driver.create("c2", { pidsLimit: 5 });
    expect(fs.writes.filter((w) => w.path === join(fs.root, "cgroup.subtree_control"))).toEqual([]);
    expect(
      fs.writes.filter((w) => w.path === join(parent(), "cgroup.subtree_control")),
    ).toHaveLength(3);
    expect(read("berth/c2/pids.max")).toBe("5");
    // Without resources nothing is written in the group.
    expect(fs.writesUnder(g())).toEqual([]);
  });

  it("leaves memory.swap.max alone when the kernel has no swap accounting", async () => {
    const driver = driverFor({ swapAccounting: false });
    await driver.create("c1", { memoryBytes: 32 * MiB });
    expect(fs.writesUnder(g())).toEqual(["memory.max=33554432"]);
  });

  it("fails before creating anything when a needed controller is not offered", async () => {
    const driver = driverFor({ controllers: ["cpu", "memory"] });
    const error = await rejection(driver.create("c1", { pidsLimit: 10 }));
    expect(error.code).toBe("CGROUP_FAILED");
    expect(error.message).toContain(
      `the pids controller is not available in ${join(fs.root, "cgroup.controllers")} (offered: cpu memory)`,
    );
    expect(existsSync(parent())).toBe(false);
    expect(fs.writes).toEqual([]);
    // Without a pids limit the same host is fine; pids just stays off.
    await driver.create("c1", { memoryBytes: 64 * MiB });
    expect(read("berth/c1/cgroup.controllers")).toBe("cpu memory");
    expect((await driver.stats("c1")).pids).toEqual({ current: 0, limit: null });
  });

  it("refuses device rules, which need eBPF on v2", async () => {
    const driver = driverFor();
    const error = await rejection(driver.create("c1", { allowedDevices: ["c 1:3 rwm"] }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(existsSync(parent())).toBe(false);
  });

  it("refuses an existing group", async () => {
    const driver = driverFor();
    await driver.create("c1", { pidsLimit: 7 });
    const error = await rejection(driver.create("c1", { pidsLimit: 9 }));
    expect(error.code).toBe("CONFLICT");
    expect(read("berth/c1/pids.max")).toBe("7");
  });

  it("undoes group and new parent when a write fails, naming file, value and errno", async () => {
    const driver = driverFor();
    fs.fail("write", g("memory.max"), "EBUSY");
    const error = await rejection(driver.create("c1", { memoryBytes: 256 * MiB }));
    expect(error.code).toBe("CGROUP_FAILED");
    expect(error.message).toBe(
      `write 268435456 to ${g("memory.max")} failed: EBUSY (the group is in use (usage above the new limit, processes or child groups remain))`,
    );
    expect(error.context).toMatchObject({
      path: g("memory.max"),
      value: "268435456",
      errno: "EBUSY",
    });
    expect(existsSync(parent())).toBe(false);
  });

  it("undoes nothing it did not create", async () => {
    const driver = driverFor();
    await driver.create("c0");
    fs.fail("write", g("cpu.max"), "EINVAL");
    const error = await rejection(driver.create("c1", { cpus: 1 }));
    expect(error.message).toContain(`write 100000 100000 to ${g("cpu.max")} failed: EINVAL`);
    expect(existsSync(g())).toBe(false);
    expect(existsSync(join(parent(), "c0"))).toBe(true);
  });

  it("reports a failed subtree_control write with its value", async () => {
    const driver = driverFor();
    fs.fail("write", join(fs.root, "cgroup.subtree_control"), "EBUSY");
    const error = await rejection(driver.create("c1"));
    expect(error.message).toMatch(/^write \+cpu to .*\/cgroup\.subtree_control failed: EBUSY/);
    expect(existsSync(parent())).toBe(false);
  });
});

describe("CgroupV2Driver processes, update and stats", () => {
  it("adds processes through cgroup.procs and lists them", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.addProcess("c1", 11);
    await driver.addProcess("c1", 12);
    expect(await driver.pids("c1")).toEqual([11, 12]);
    expect(read("berth/c1/cgroup.events")).toContain("populated 1");
    expect(read("cgroup.procs")).toBe("1");
  });

  it("updates memory, cpu, weight and pids, and lifts them again", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 64 * MiB, cpus: 0.5, pidsLimit: 20 });
    await driver.update("c1", { memoryBytes: 32 * MiB, cpus: 2, cpuShares: 2, pidsLimit: 50 });
    expect(read("berth/c1/memory.max")).toBe("33554432");
    expect(read("berth/c1/cpu.max")).toBe("200000 100000");
    expect(read("berth/c1/cpu.weight")).toBe("1");
    expect(read("berth/c1/pids.max")).toBe("50");
    await driver.update("c1", { memoryBytes: "max", cpus: "max", pidsLimit: "max" });
    expect(read("berth/c1/memory.max")).toBe("max");
    expect(read("berth/c1/memory.swap.max")).toBe("max");
    expect(read("berth/c1/cpu.max")).toBe("max 100000");
    expect(read("berth/c1/pids.max")).toBe("max");
  });

  it("rejects updates of a missing group and of controllers the group lacks", async () => {
    const driver = driverFor({ controllers: ["cpu", "memory"] });
    expect((await rejection(driver.update("c1", { cpus: 1 }))).code).toBe("NOT_FOUND");
    await driver.create("c1");
    const error = await rejection(driver.update("c1", { pidsLimit: 3 }));
    expect(error.message).toContain(
      `pids controller is not available in ${g("cgroup.controllers")}`,
    );
    expect((await rejection(driver.update("c1", { memoryBytes: 1 }))).code).toBe(
      "INVALID_ARGUMENT",
    );
  });

  it("reads stats from memory.*, cpu.stat and pids.*", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 64 * MiB, pidsLimit: 20 });
    fs.set(g("memory.current"), "1048576");
    fs.set(g("memory.peak"), "3145728");
    fs.set(g("memory.stat"), "anon 1000\nfile 2000\ninactive_file 512");
    fs.set(
      g("cpu.stat"),
      "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 30\nnr_throttled 12\nthrottled_usec 4000",
    );
    fs.set(g("pids.current"), "4");
    expect(await driver.stats("c1")).toEqual({
      memory: {
        usageBytes: 1_048_576,
        limitBytes: 64 * MiB,
        maxUsageBytes: 3_145_728,
        inactiveFileBytes: 512,
      },
      cpu: {
        usageNs: 2_000_000,
        userNs: 1_500_000,
        systemNs: 500_000,
        periods: 30,
        throttledPeriods: 12,
        throttledNs: 4_000_000,
      },
      pids: { current: 4, limit: 20 },
    });
    expect((await rejection(driver.stats("nope"))).code).toBe("NOT_FOUND");
  });

  it("reports no high-water mark on kernels without memory.peak", async () => {
    const driver = driverFor({ memoryPeak: false });
    await driver.create("c1");
    const stats = await driver.stats("c1");
    expect(stats.memory.maxUsageBytes).toBeNull();
    expect(stats.memory.limitBytes).toBeNull();
  });

  it("counts OOM kills from memory.events", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 32 * MiB });
    expect(await driver.oomKillCount("c1")).toBe(0);
    fs.set(g("memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0");
    expect(await driver.oomKillCount("c1")).toBe(1);
    expect((await rejection(driver.oomKillCount("gone"))).code).toBe("NOT_FOUND");
  });

  it("freezes through cgroup.freeze and waits for cgroup.events", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.freeze("c1");
    expect(read("berth/c1/cgroup.freeze")).toBe("1");
    expect(read("berth/c1/cgroup.events")).toContain("frozen 1");
    await driver.thaw("c1");
    expect(read("berth/c1/cgroup.events")).toContain("frozen 0");
  });
});

describe("CgroupV2Driver.destroy", () => {
  it("uses cgroup.kill, waits for the group to empty and removes it", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.addProcess("c1", 21);
    await driver.addProcess("c1", 22);
    await driver.destroy("c1");
    expect(fs.writesUnder(g())).toContain("cgroup.kill=1");
    expect(fs.signals).toEqual([]);
    expect(existsSync(g())).toBe(false);
    expect(existsSync(parent())).toBe(true);
  });

  it("falls back to freeze + SIGKILL each pid on kernels without cgroup.kill", async () => {
    const driver = driverFor({ cgroupKill: false });
    await driver.create("c1");
    await driver.addProcess("c1", 31);
    await driver.destroy("c1");
    expect(fs.signals).toEqual([{ pid: 31, signal: "SIGKILL" }]);
    expect(fs.writesUnder(g())).toEqual(["cgroup.procs=31", "cgroup.freeze=1", "cgroup.freeze=0"]);
    expect(existsSync(g())).toBe(false);
  });

  it("removes nested groups deepest first", async () => {
    const driver = driverFor();
    await driver.create("c1");
    fs.writeFile(g("cgroup.subtree_control"), "+memory");
    fs.mkdir(g("inner"));
    fs.mkdir(g("inner/leaf"));
    fs.writeFile(g("inner/leaf/cgroup.procs"), "41");
    await driver.destroy("c1");
    expect(existsSync(g())).toBe(false);
  });

  it("is idempotent", async () => {
    const driver = driverFor();
    await driver.destroy("c1");
    await driver.create("c1");
    await driver.destroy("c1");
    await driver.destroy("c1");
    expect(await driver.exists("c1")).toBe(false);
  });

  it("times out naming the pids that would not die", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.addProcess("c1", 51);
    fs.unkillable.add(51);
    const error = await rejection(driver.destroy("c1", { timeoutMs: 30 }));
    expect(error.message).toContain("still has processes 51 after 30 ms");
    expect(existsSync(g())).toBe(true);
  });

  it("removes the parent only when empty, and never touches the root", async () => {
    const driver = driverFor();
    await driver.create("c1");
    expect(await driver.destroyParentIfEmpty()).toBe(false);
    await driver.destroy("c1");
    expect(await driver.destroyParentIfEmpty()).toBe(true);
    expect(existsSync(parent())).toBe(false);
    expect(existsSync(join(fs.root, "cgroup.controllers"))).toBe(true);
    expect(await driver.destroyParentIfEmpty()).toBe(true);
  });

  it("reports its path for inspect", () => {
    const driver = driverFor();
    expect(driver.paths("c1")).toEqual({ unified: g() });
    expect(driver.version).toBe("v2");
  });
});

describe("CgroupV2Driver.rename", () => {
  it("renames the group directory with its limits", async () => {
    const driver = driverFor();
    await driver.create("zygote-1", { pidsLimit: 20 });
    await driver.rename("zygote-1", "c1");
    expect(await driver.exists("zygote-1")).toBe(false);
    expect(read("berth", "c1", "pids.max")).toBe("20");
  });

  it("refuses to replace an existing group", async () => {
    const driver = driverFor();
    await driver.create("zygote-1");
    await driver.create("c1");
    expect((await rejection(driver.rename("zygote-1", "c1"))).code).toBe("CONFLICT");
    expect(await driver.exists("zygote-1")).toBe(true);
  });
});
