import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CgroupDriver } from "./cgroup-driver.ts";
import { detectCgroupDriver } from "./detect-cgroup-mode.ts";

/**
 * Real cgroup v1 on this hybrid host, as root. Every group lives under `berth-test-<pid>` in each
 * hierarchy and is removed after each test; the host's own groups are never written.
 */
const CGROUP_ROOT = "/sys/fs/cgroup";
const PARENT = `berth-test-${process.pid}`;
const MiB = 1024 * 1024;
const canRun =
  process.getuid?.() === 0 &&
  existsSync(join(CGROUP_ROOT, "memory", "memory.limit_in_bytes")) &&
  !existsSync(join(CGROUP_ROOT, "cgroup.controllers"));

const children: ChildProcess[] = [];
const groups = new Set<string>();
let driver: CgroupDriver;

function start(script: string): ChildProcess {
  const child = spawn("/bin/sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  return child;
}

async function create(name: string, resources: Parameters<CgroupDriver["create"]>[1]) {
  groups.add(name);
  await driver.create(name, resources);
  return (controller: string, file = "") => join(CGROUP_ROOT, controller, PARENT, name, file);
}

function output(stream: NodeJS.ReadableStream | null): () => string {
  let text = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    text += chunk;
  });
  return () => text;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Our leftovers under /sys/fs/cgroup/<hierarchy>/ (other runs' berth-test-* are not ours). */
function leftovers(): string[] {
  const found: string[] = [];
  for (const hierarchy of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, hierarchy);
    if (!existsSync(join(dir, "cgroup.procs"))) continue;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith(PARENT)) found.push(join(dir, entry));
    }
  }
  return found;
}

describe.skipIf(!canRun)("CgroupV1Driver on the host's cgroup v1 hierarchies", () => {
  beforeAll(() => {
    driver = detectCgroupDriver({ cgroupRoot: CGROUP_ROOT, cgroupParent: PARENT });
    expect(driver.version).toBe("v1");
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    for (const name of groups) await driver.destroy(name);
    groups.clear();
    await driver.destroyParentIfEmpty();
    expect(leftovers()).toEqual([]);
  });

  it("limits a process to 64 MiB, 0.5 CPU and 20 pids, reports stats, destroys it", async () => {
    const file = await create("limits", { memoryBytes: 64 * MiB, cpus: 0.5, pidsLimit: 20 });
    const child = start("exec sleep 30");
    const pid = child.pid!;
    await driver.addProcess("limits", pid);

    const cgroupLines = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    for (const controller of ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"]) {
      expect(cgroupLines).toMatch(new RegExp(`^\\d+:${controller}:/${PARENT}/limits$`, "m"));
    }
    expect(await driver.pids("limits")).toEqual([pid]);
    expect(readFileSync(file("memory", "memory.limit_in_bytes"), "utf8").trim()).toBe("67108864");
    if (existsSync(file("memory", "memory.memsw.limit_in_bytes"))) {
      expect(readFileSync(file("memory", "memory.memsw.limit_in_bytes"), "utf8").trim()).toBe(
        "67108864",
      );
    }
    expect(readFileSync(file("cpu", "cpu.cfs_quota_us"), "utf8").trim()).toBe("50000");
    expect(readFileSync(file("cpu", "cpu.cfs_period_us"), "utf8").trim()).toBe("100000");
    expect(readFileSync(file("pids", "pids.max"), "utf8").trim()).toBe("20");
    const devices = readFileSync(file("devices", "devices.list"), "utf8");
    expect(devices).not.toContain("a *:* rwm");
    expect(devices).toContain("c 1:3 rwm");
    expect(devices).toContain("c 136:* rwm");

    const stats = await driver.stats("limits");
    expect(stats.memory.limitBytes).toBe(64 * MiB);
    expect(stats.memory.usageBytes).toBeGreaterThanOrEqual(0);
    expect(stats.memory.maxUsageBytes).not.toBeNull();
    expect(stats.cpu.usageNs).toBeGreaterThanOrEqual(0);
    expect(stats.pids).toEqual({ current: 1, limit: 20 });
    expect(await driver.oomKillCount("limits")).toBe(0);

    await driver.update("limits", { memoryBytes: 128 * MiB, pidsLimit: 30 });
    expect((await driver.stats("limits")).memory.limitBytes).toBe(128 * MiB);
    await driver.update("limits", { memoryBytes: 32 * MiB, cpus: "max" });
    expect(readFileSync(file("memory", "memory.limit_in_bytes"), "utf8").trim()).toBe("33554432");
    expect(readFileSync(file("cpu", "cpu.cfs_quota_us"), "utf8").trim()).toBe("-1");

    await driver.freeze("limits");
    expect(readFileSync(file("freezer", "freezer.state"), "utf8").trim()).toBe("FROZEN");
    await driver.thaw("limits");

    const exited = once(child, "exit");
    await driver.destroy("limits");
    expect(await exited).toEqual([null, "SIGKILL"]);
    for (const path of Object.values(driver.paths("limits"))) expect(existsSync(path)).toBe(false);
    await driver.destroy("limits");
    expect(await driver.destroyParentIfEmpty()).toBe(true);
    expect(existsSync(join(CGROUP_ROOT, "memory", PARENT))).toBe(false);
  });

  it("OOM-kills a memory hog in a 32 MiB group and counts it", async () => {
    await create("oom", { memoryBytes: 32 * MiB });
    // Waits on stdin so that it is in the group before it allocates.
    const child = start(
      `read go; x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived \${#x}`,
    );
    const stdout = output(child.stdout);
    await driver.addProcess("oom", child.pid!);
    const exited = once(child, "exit");
    child.stdin!.end("go\n");
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });
    expect(stdout()).not.toContain("survived");
    expect(await driver.oomKillCount("oom")).toBeGreaterThan(0);
    const stats = await driver.stats("oom");
    expect(stats.memory.maxUsageBytes).toBeGreaterThan(30 * MiB);
    expect(stats.memory.maxUsageBytes).toBeLessThanOrEqual(32 * MiB);
  });

  it("stops a fork loop at pids.max", async () => {
    const file = await create("forks", { pidsLimit: 20 });
    const child = start(
      "read go; i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo started; wait",
    );
    const stderr = output(child.stderr);
    await driver.addProcess("forks", child.pid!);
    child.stdin!.end("go\n");
    await until("a failed fork", () => /fork/i.test(stderr()));
    const stats = await driver.stats("forks");
    expect(stats.pids.limit).toBe(20);
    expect(stats.pids.current).toBeLessThanOrEqual(20);
    expect(stats.pids.current).toBeGreaterThanOrEqual(15);
    const events = readFileSync(file("pids", "pids.events"), "utf8");
    expect(Number(/max (\d+)/.exec(events)?.[1])).toBeGreaterThan(0);

    // destroy kills the shell and its orphaned sleeps alike.
    const inside = await driver.pids("forks");
    expect(inside.length).toBeGreaterThanOrEqual(15);
    await driver.destroy("forks");
    expect(existsSync(file("pids"))).toBe(false);
    for (const pid of inside) {
      const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
      // Gone, or a zombie waiting for its parent to reap it.
      expect(stat === "" || / Z /.test(stat)).toBe(true);
    }
  });

  it("holds a busy loop to about half a CPU with --cpus 0.5", async () => {
    await create("cpu", { cpus: 0.5 });
    const child = start("read go; while :; do :; done");
    await driver.addProcess("cpu", child.pid!);
    child.stdin!.end("go\n");
    await sleep(200);
    const before = await driver.stats("cpu");
    const t0 = process.hrtime.bigint();
    await sleep(1500);
    const after = await driver.stats("cpu");
    const elapsedNs = Number(process.hrtime.bigint() - t0);
    const share = (after.cpu.usageNs - before.cpu.usageNs) / elapsedNs;
    // The cap, not a floor: on a loaded machine the loop may get less than its half.
    expect(share).toBeLessThanOrEqual(0.6);
    expect(share).toBeGreaterThan(0);
    expect(after.cpu.throttledPeriods).toBeGreaterThan(before.cpu.throttledPeriods);
    expect(after.cpu.throttledNs).toBeGreaterThan(0);
  });

  it("rejects a bad limit without creating anything", async () => {
    await expect(driver.create("bad", { memoryBytes: 1024 })).rejects.toThrow(/at least 6 MiB/);
    expect(await driver.exists("bad")).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});
