import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { createEngine, type Engine } from "./engine.ts";
import type { RunInput } from "./run-input.ts";

const isRoot = process.getuid?.() === 0;
const CGROUP_PARENT = `berth-test-${process.pid}`;

async function runToExit(engine: Engine, command: string[], extra: Partial<RunInput> = {}) {
  const s = await engine.run({ rootfs, command, network: "none", ...extra });
  const exit = await engine.wait(s.id);
  const out = engine
    .logs(s.id)
    .map((l) => l.log)
    .join("");
  await engine.remove(s.id);
  return { ...exit, out, state: s };
}

let engine: Engine;
let root: string;
let rootfs: string;

describe.skipIf(!isRoot)("engine (real kernel)", () => {
  beforeAll(async () => {
    rootfs = busyboxRootfs();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-"));
    engine = await createEngine(
      { root: `${root}/lib`, runRoot: `${root}/run`, cgroupParent: CGROUP_PARENT },
      { poolSize: 2 },
    );
    await engine.warm();
  });

  afterAll(async () => {
    for (const s of engine?.list({ all: true }) ?? []) await engine.remove(s.id, { force: true });
    await engine?.close();
    // Nothing may be left behind: no mounts under our root, no cgroups.
    const mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8");
    expect(mountinfo.includes(root)).toBe(false);
    for (const ctrl of ["memory", "pids", "cpu"]) {
      const dir = `/sys/fs/cgroup/${ctrl}/${CGROUP_PARENT}`;
      if (fs.existsSync(dir)) {
        const left = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
        expect(left).toEqual([]);
        fs.rmdirSync(dir);
      }
    }
    const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(ps.includes(root)).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("runs /bin/true and reports exit 0", async () => {
    const r = await runToExit(engine, ["/bin/true"]);
    expect(r.exitCode).toBe(0);
  });

  it("reports the app's exit code (sh -c 'exit 3')", async () => {
    const r = await runToExit(engine, ["sh", "-c", "exit 3"]);
    expect(r.exitCode).toBe(3);
  });

  it("command not found exits 127 and says so", async () => {
    const r = await runToExit(engine, ["no-such-command"]);
    expect(r.exitCode).toBe(127);
    expect(r.out).toContain("command not found: no-such-command");
    expect(r.state.error).toContain("command not found: no-such-command");
  });

  it("sees only its own processes, with /proc for its PID namespace", async () => {
    const r = await runToExit(engine, [
      "sh",
      "-c",
      "ls /proc | grep -E '^[0-9]+$' | wc -l; ps -o pid,comm",
    ]);
    expect(r.exitCode).toBe(0);
    const [count] = r.out.trim().split("\n");
    // the init, the shell, ls, grep, wc: a handful, not the host's hundreds
    expect(Number(count)).toBeLessThan(10);
    expect(r.out).toMatch(/^\s+1 /m);
  });

  it("sets the hostname", async () => {
    const r = await runToExit(engine, ["hostname"], { hostname: "berth-box" });
    expect(r.out.trim()).toBe("berth-box");
  });

  it("has Docker's caps, no_new_privs and a seccomp filter", async () => {
    const r = await runToExit(engine, [
      "grep",
      "-E",
      "^(CapEff|CapBnd|NoNewPrivs|Seccomp):",
      "/proc/self/status",
    ]);
    expect(r.out).toContain("CapEff:\t00000000a80425fb");
    expect(r.out).toContain("CapBnd:\t00000000a80425fb");
    expect(r.out).toContain("NoNewPrivs:\t1");
    expect(r.out).toContain("Seccomp:\t2");
  });

  it("keeps /proc/sys read-only and masks /proc/kcore and /proc/keys", async () => {
    const r = await runToExit(engine, [
      "sh",
      "-c",
      "echo x > /proc/sys/kernel/domainname && echo WROTE; grep -c . /proc/keys; test -s /proc/kcore && echo KCORE",
    ]);
    expect(r.out).not.toContain("WROTE");
    expect(r.out).toMatch(/Read-only file system/);
    expect(r.out).toMatch(/^0$/m);
    expect(r.out).not.toContain("KCORE");
  });

  it("refuses mount and mknod of a block device", async () => {
    const r = await runToExit(engine, [
      "sh",
      "-c",
      "mount -t tmpfs none /mnt && echo MOUNTED; mknod /tmp/sda b 8 0 && echo MKNOD; exit 0",
    ]);
    expect(r.out).not.toContain("MOUNTED");
    expect(r.out).not.toContain("MKNOD");
  });

  it("closes every other fd before exec", async () => {
    const r = await runToExit(engine, ["ls", "/proc/self/fd"]);
    // 0-2 and the fd ls opened for the directory
    expect(r.out.trim().split(/\s+/).sort()).toEqual(["0", "1", "2", "3"]);
  });

  it("stops a running container: SIGTERM to the app, exit recorded", async () => {
    const s = await engine.run({ rootfs, command: ["sleep", "30"], network: "none" });
    expect(engine.inspect(s.id).status).toBe("running");
    const t0 = Date.now();
    const stopped = await engine.stop(s.id, 5);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(stopped.status).toBe("exited");
    expect(stopped.exitCode).toBe(143);
    await engine.remove(s.id);
  });

  it("rejects a duplicate name and leaves nothing behind", async () => {
    const s = await engine.run({ rootfs, command: ["sleep", "30"], name: "dup", network: "none" });
    await expect(
      engine.run({ rootfs, command: ["true"], name: "dup", network: "none" }),
    ).rejects.toThrow(/already in use/);
    await engine.remove(s.id, { force: true });
    expect(engine.list({ all: true })).toEqual([]);
    expect(fs.readdirSync(`${root}/lib/containers`)).toEqual([]);
  });

  it("records the exit of a container started by an engine that has since restarted", async () => {
    const s = await engine.run({
      rootfs,
      command: ["sh", "-c", "echo before; sleep 0.6; echo after; exit 5"],
      network: "none",
    });
    await engine.close();
    engine = await createEngine(
      { root: `${root}/lib`, runRoot: `${root}/run`, cgroupParent: CGROUP_PARENT },
      { poolSize: 1 },
    );
    expect(engine.inspect(s.id).status).toBe("running");
    const exit = await engine.wait(s.id);
    expect(exit.exitCode).toBe(5);
    const out = engine
      .logs(s.id)
      .map((l) => l.log)
      .join("");
    expect(out).toContain("before");
    expect(out).toContain("after");
    await engine.remove(s.id);
  });
});
