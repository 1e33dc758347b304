import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import { CgroupV1Driver } from "./cgroup-v1-driver.ts";
import { detectCgroupMode } from "./detect-cgroup-mode.ts";
import { DEFAULT_ALLOWED_DEVICES } from "./resources.ts";
import { makeScratchDir, ScratchCgroupFs, type ScratchV1Options } from "./scratch-cgroup-fs.ts";

const MiB = 1024 * 1024;
let dir: string;
let fs: ScratchCgroupFs;

function driverFor(options: ScratchV1Options = {}): CgroupV1Driver {
  fs = ScratchCgroupFs.v1(join(dir, `cg${Math.random().toString(16).slice(2)}`), options);
  const mode = detectCgroupMode(fs, fs.root);
  if (mode.version !== "v1") throw new Error("expected v1");
  return new CgroupV1Driver({ hierarchies: mode.hierarchies, parent: "berth", deps: fs.deps(2) });
}

const read = (...parts: string[]) => readFileSync(join(fs.root, ...parts), "utf8").trim();
const g = (controller: string, file = "") => join(fs.root, controller, "berth", "c1", file);

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
  dir = makeScratchDir("berth-cgroups-v1-");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("CgroupV1Driver.create", () => {
  it("creates parent and group in every used hierarchy and writes the limits", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 64 * MiB, cpus: 0.5, pidsLimit: 20, cpuShares: 512 });
    for (const c of ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"]) {
      expect(existsSync(g(c)), c).toBe(true);
    }
    // Not created where the engine sets nothing.
    expect(existsSync(join(fs.root, "cpuset", "berth"))).toBe(false);
    expect(existsSync(join(fs.root, "blkio", "berth"))).toBe(false);
    expect(read("memory/berth/c1/memory.limit_in_bytes")).toBe("67108864");
    expect(read("memory/berth/c1/memory.memsw.limit_in_bytes")).toBe("67108864");
    expect(read("cpu/berth/c1/cpu.cfs_period_us")).toBe("100000");
    expect(read("cpu/berth/c1/cpu.cfs_quota_us")).toBe("50000");
    expect(read("cpu/berth/c1/cpu.shares")).toBe("512");
    expect(read("pids/berth/c1/pids.max")).toBe("20");
    // The parent carries no limits.
    expect(fs.writesUnder(join(fs.root, "memory", "berth")).every((w) => w.startsWith("c1/"))).toBe(
      true,
    );
  });

  it("denies all devices, then allows Docker's default list", async () => {
    const driver = driverFor();
    await driver.create("c1");
    expect(fs.writesUnder(g("devices"))).toEqual([
      "devices.deny=a",
      ...DEFAULT_ALLOWED_DEVICES.map((d) => `devices.allow=${d}`),
    ]);
    // Nothing else is written without resources.
    expect(fs.writesUnder(g("memory"))).toEqual([]);
    expect(read("pids/berth/c1/pids.max")).toBe("max");
  });

  it("writes to each co-mounted hierarchy once", async () => {
    const driver = driverFor({
      mounts: [["memory"], ["cpu", "cpuacct"], ["pids"], ["devices"], ["freezer"]],
      symlinks: true,
    });
    await driver.create("c1", { cpus: 1 });
    expect(existsSync(join(fs.root, "cpu,cpuacct", "berth", "c1"))).toBe(true);
    expect(fs.writes.filter((w) => w.path.endsWith("cpu.cfs_quota_us"))).toHaveLength(1);
    expect(driver.paths("c1")).toMatchObject({
      cpu: join(fs.root, "cpu,cpuacct", "berth", "c1"),
      cpuacct: join(fs.root, "cpu,cpuacct", "berth", "c1"),
      memory: join(fs.root, "memory", "berth", "c1"),
    });
  });

  it("sets only memory.limit_in_bytes without swap accounting", async () => {
    const driver = driverFor({ swapAccounting: false });
    await driver.create("c1", { memoryBytes: 32 * MiB });
    expect(fs.writesUnder(g("memory"))).toEqual(["memory.limit_in_bytes=33554432"]);
  });

  it("refuses an existing group and leaves it untouched", async () => {
    const driver = driverFor();
    await driver.create("c1");
    const error = await rejection(driver.create("c1", { pidsLimit: 5 }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("already exists");
    expect(read("pids/berth/c1/pids.max")).toBe("max");
  });

  it("undoes every directory when a write fails, naming file, value and errno", async () => {
    const driver = driverFor();
    fs.fail("write", g("memory", "memory.limit_in_bytes"), "EBUSY");
    const error = await rejection(driver.create("c1", { memoryBytes: 256 * MiB }));
    expect(error.code).toBe("CGROUP_FAILED");
    expect(error.message).toMatch(
      new RegExp(
        `^write 268435456 to ${g("memory", "memory.limit_in_bytes").replaceAll("/", "\\/")} failed: EBUSY`,
      ),
    );
    expect(error.context).toMatchObject({
      path: g("memory", "memory.limit_in_bytes"),
      value: "268435456",
      errno: "EBUSY",
    });
    for (const c of ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"]) {
      expect(existsSync(join(fs.root, c, "berth")), c).toBe(false);
    }
  });

  it("keeps a parent that existed before a failed create", async () => {
    const driver = driverFor();
    await driver.create("c0");
    fs.fail("write", g("pids", "pids.max"), "EINVAL");
    await rejection(driver.create("c1", { pidsLimit: 5 }));
    expect(existsSync(g("pids"))).toBe(false);
    expect(existsSync(join(fs.root, "pids", "berth", "c0"))).toBe(true);
  });

  it("validates before touching the filesystem", async () => {
    const driver = driverFor();
    const bad = await rejection(driver.create("c1", { memoryBytes: MiB }));
    expect(bad.code).toBe("INVALID_ARGUMENT");
    const name = await rejection(driver.create("../escape"));
    expect(name.code).toBe("INVALID_ARGUMENT");
    expect(fs.writes).toEqual([]);
    expect(existsSync(join(fs.root, "memory", "berth"))).toBe(false);
  });

  it("fails clearly when a needed controller is not mounted", async () => {
    const driver = driverFor({ mounts: [["memory"], ["cpu"], ["cpuacct"], ["devices"]] });
    const error = await rejection(driver.create("c1", { pidsLimit: 10 }));
    expect(error.code).toBe("CGROUP_FAILED");
    expect(error.message).toContain("pids controller, which is not mounted");
    expect(existsSync(join(fs.root, "memory", "berth"))).toBe(false);
  });
});

describe("CgroupV1Driver processes, update and stats", () => {
  it("adds a process to every hierarchy", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.addProcess("c1", 4242);
    for (const c of ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"]) {
      expect(read(c, "berth", "c1", "cgroup.procs")).toBe("4242");
    }
    expect(await driver.pids("c1")).toEqual([4242]);
  });

  it("names the file when adding a process fails", async () => {
    const driver = driverFor();
    await driver.create("c1");
    fs.fail("write", g("memory", "cgroup.procs"), "ESRCH");
    const error = await rejection(driver.addProcess("c1", 99));
    expect(error.message).toBe(
      `write 99 to ${g("memory", "cgroup.procs")} failed: ESRCH (no such process)`,
    );
  });

  it("updates limits in an order the kernel accepts, growing and shrinking", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 64 * MiB });
    await driver.update("c1", { memoryBytes: 128 * MiB });
    expect(read("memory/berth/c1/memory.limit_in_bytes")).toBe("134217728");
    expect(read("memory/berth/c1/memory.memsw.limit_in_bytes")).toBe("134217728");
    await driver.update("c1", { memoryBytes: 32 * MiB });
    expect(read("memory/berth/c1/memory.limit_in_bytes")).toBe("33554432");
    expect(read("memory/berth/c1/memory.memsw.limit_in_bytes")).toBe("33554432");
    await driver.update("c1", { memoryBytes: "max", cpus: 1.5, pidsLimit: 100 });
    expect(read("memory/berth/c1/memory.limit_in_bytes")).toBe("9223372036854771712");
    expect(read("cpu/berth/c1/cpu.cfs_quota_us")).toBe("150000");
    expect(read("pids/berth/c1/pids.max")).toBe("100");
    // update leaves devices alone.
    expect(fs.writes.filter((w) => w.path.includes("devices.deny"))).toHaveLength(1);
  });

  it("rejects updates of a missing group, of devices, and of bad values", async () => {
    const driver = driverFor();
    expect((await rejection(driver.update("c1", { pidsLimit: 5 }))).code).toBe("NOT_FOUND");
    await driver.create("c1");
    expect((await rejection(driver.update("c1", { allowedDevices: [] }))).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect((await rejection(driver.update("c1", { cpus: 8 }))).message).toContain(
      "cpus must be at most 2",
    );
  });

  it("reads stats from memory, cpu, cpuacct and pids", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 64 * MiB, pidsLimit: 20 });
    fs.set(g("memory", "memory.usage_in_bytes"), "1048576");
    fs.set(g("memory", "memory.max_usage_in_bytes"), "2097152");
    fs.set(g("memory", "memory.stat"), "cache 0\ntotal_inactive_file 4096");
    fs.set(g("cpuacct", "cpuacct.usage"), "5000000");
    fs.set(g("cpu", "cpu.stat"), "nr_periods 10\nnr_throttled 4\nthrottled_time 777");
    fs.set(g("pids", "pids.current"), "3");
    expect(await driver.stats("c1")).toEqual({
      memory: {
        usageBytes: 1_048_576,
        limitBytes: 64 * MiB,
        maxUsageBytes: 2_097_152,
        inactiveFileBytes: 4096,
      },
      cpu: {
        usageNs: 5_000_000,
        userNs: 0,
        systemNs: 0,
        periods: 10,
        throttledPeriods: 4,
        throttledNs: 777,
      },
      pids: { current: 3, limit: 20 },
    });
    expect((await rejection(driver.stats("nope"))).code).toBe("NOT_FOUND");
  });

  it("counts OOM kills from memory.oom_control", async () => {
    const driver = driverFor();
    await driver.create("c1", { memoryBytes: 32 * MiB });
    expect(await driver.oomKillCount("c1")).toBe(0);
    fs.set(g("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2");
    expect(await driver.oomKillCount("c1")).toBe(2);
    const error = await rejection(driver.oomKillCount("gone"));
    expect(error.message).toMatch(/^read .*memory\.oom_control failed: ENOENT/);
  });

  it("freezes and thaws through freezer.state", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.freeze("c1");
    expect(read("freezer/berth/c1/freezer.state")).toBe("FROZEN");
    await driver.thaw("c1");
    expect(read("freezer/berth/c1/freezer.state")).toBe("THAWED");
  });
});

describe("CgroupV1Driver.destroy", () => {
  it("freezes, kills every process, thaws and removes the group everywhere", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.addProcess("c1", 101);
    await driver.addProcess("c1", 102);
    await driver.destroy("c1");
    expect(fs.signals).toEqual([
      { pid: 101, signal: "SIGKILL" },
      { pid: 102, signal: "SIGKILL" },
    ]);
    const freezerWrites = fs.writesUnder(g("freezer")).filter((w) => w.startsWith("freezer"));
    expect(freezerWrites).toEqual(["freezer.state=FROZEN", "freezer.state=THAWED"]);
    for (const c of ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"]) {
      expect(existsSync(g(c)), c).toBe(false);
      expect(existsSync(join(fs.root, c, "berth")), c).toBe(true);
    }
    expect(await driver.exists("c1")).toBe(false);
  });

  it("removes nested groups deepest first and kills their processes", async () => {
    const driver = driverFor();
    await driver.create("c1");
    fs.mkdir(g("memory", "inner"));
    fs.mkdir(g("memory", "inner/deeper"));
    fs.writeFile(g("memory", "inner/deeper/cgroup.procs"), "303");
    await driver.destroy("c1");
    expect(fs.signals).toContainEqual({ pid: 303, signal: "SIGKILL" });
    expect(existsSync(g("memory"))).toBe(false);
  });

  it("is idempotent and tolerates half-removed groups", async () => {
    const driver = driverFor();
    await driver.destroy("never-created");
    await driver.create("c1");
    fs.rmdir(g("memory"));
    fs.rmdir(g("pids"));
    await driver.destroy("c1");
    await driver.destroy("c1");
    expect(await driver.exists("c1")).toBe(false);
  });

  it("retries a momentary EBUSY from rmdir", async () => {
    const driver = driverFor();
    await driver.create("c1");
    fs.fail("rmdir", g("memory"), "EBUSY", 3);
    await driver.destroy("c1");
    expect(existsSync(g("memory"))).toBe(false);
  });

  it("gives up with the remaining pids when a process cannot be killed", async () => {
    const driver = driverFor();
    await driver.create("c1");
    await driver.addProcess("c1", 555);
    fs.unkillable.add(555);
    const error = await rejection(driver.destroy("c1", { timeoutMs: 50 }));
    expect(error.code).toBe("CGROUP_FAILED");
    expect(error.message).toMatch(/still has processes 555 after 50 ms/);
    expect(existsSync(g("memory"))).toBe(true);
    fs.unkillable.delete(555);
    await driver.destroy("c1");
    expect(existsSync(g("memory"))).toBe(false);
  });

  it("removes the parent only when no container group is left", async () => {
    const driver = driverFor();
    expect(await driver.destroyParentIfEmpty()).toBe(true);
    await driver.create("c1");
    await driver.create("c2");
    await driver.destroy("c1");
    expect(await driver.destroyParentIfEmpty()).toBe(false);
    expect(existsSync(join(fs.root, "memory", "berth", "c2"))).toBe(true);
    await driver.destroy("c2");
    expect(await driver.destroyParentIfEmpty()).toBe(true);
    for (const entry of readdirSync(fs.root)) {
      expect(existsSync(join(fs.root, entry, "berth")), entry).toBe(false);
    }
  });
});

describe("CgroupV1Driver.rename", () => {
  it("renames the group in every hierarchy, processes and limits with it", async () => {
    const driver = driverFor();
    await driver.create("zygote-1", { pidsLimit: 20 });
    await driver.addProcess("zygote-1", 4242);
    await driver.rename("zygote-1", "c1");
    expect(await driver.exists("zygote-1")).toBe(false);
    for (const c of ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"]) {
      expect(existsSync(g(c)), c).toBe(true);
    }
    expect(read("pids/berth/c1/pids.max")).toBe("20");
    expect(await driver.pids("c1")).toEqual([4242]);
  });

  it("is all or nothing: a name taken in one hierarchy renames back the others", async () => {
    const driver = driverFor();
    await driver.create("zygote-1");
    fs.mkdir(join(fs.root, "pids", "berth", "c1"));
    const error = await rejection(driver.rename("zygote-1", "c1"));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("already exists");
    for (const c of ["memory", "cpu", "devices", "freezer"]) {
      expect(existsSync(join(fs.root, c, "berth", "zygote-1")), c).toBe(true);
      expect(existsSync(g(c)), c).toBe(false);
    }
  });

  it("refuses a missing group and unsafe names", async () => {
    const driver = driverFor();
    expect((await rejection(driver.rename("nope", "c1"))).code).toBe("NOT_FOUND");
    await driver.create("zygote-1");
    expect((await rejection(driver.rename("zygote-1", "../x"))).code).toBe("INVALID_ARGUMENT");
  });
});
