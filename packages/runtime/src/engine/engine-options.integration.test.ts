import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectCgroupDriver } from "../cgroups/detect-cgroup-mode.ts";
import { resolveRuntimeConfig } from "../config.ts";
import { parseRunOptions } from "../spec/run-options.ts";
import {
  expectNothingLeft,
  runToExit,
  startTestEngine,
  stopTestEngine,
  type TestEngine,
} from "./test-engine.ts";

const isRoot = process.getuid?.() === 0;

/** `berth container run` arguments, parsed as the command line does, with the test rootfs. */
const argv = (t: TestEngine, ...args: string[]) => parseRunOptions(["--rootfs", t.rootfs, ...args]);
const none = ["--network", "none"];

describe.skipIf(!isRoot)("engine: run options, limits and bad input (real kernel)", () => {
  let t: TestEngine;

  beforeAll(async () => {
    t = await startTestEngine();
  });

  afterAll(async () => {
    await stopTestEngine(t);
  });

  it("kills a memory hog under -m 32m and reports OOMKilled with exit code 137", async () => {
    const s = await t.engine.run(
      argv(t, ...none, "-m", "32m", "sh", "-c", "x=aaaaaaaa; while :; do x=$x$x; done"),
    );
    const exit = await t.engine.wait(s.id);
    expect(exit).toMatchObject({ exitCode: 137, oomKilled: true, reason: "oom-killed" });
    expect(t.engine.inspect(s.id)).toMatchObject({
      status: "exited",
      exitCode: 137,
      oomKilled: true,
      exitReason: "oom-killed",
    });
    await t.engine.remove(s.id);
  });

  it("runs under Docker's minimum -m 6m: the warm zygote's own memory is not charged", async () => {
    const r = await runToExit(t, { ...argv(t, ...none, "-m", "6m", "true") });
    expect(r).toMatchObject({ exitCode: 0, oomKilled: false, reason: "exited" });
    const s = await t.engine.run(argv(t, ...none, "-m", "6m", "sleep", "30"));
    const stats = await t.engine.stats(s.id);
    expect(stats.memoryLimitBytes).toBe(6 * 1024 * 1024);
    expect(stats.memoryBytes).toBeLessThan(6 * 1024 * 1024);
    await t.engine.remove(s.id, { force: true });
  });

  it("still kills a memory hog under -m 8m and reports it", async () => {
    const s = await t.engine.run(
      argv(t, ...none, "-m", "8m", "sh", "-c", "x=aaaaaaaa; while :; do x=$x$x; done"),
    );
    const exit = await t.engine.wait(s.id);
    expect(exit).toMatchObject({ exitCode: 137, oomKilled: true, reason: "oom-killed" });
    await t.engine.remove(s.id);
  });

  it("stops a fork bomb at --pids-limit 20: fork fails with EAGAIN, the container survives", async () => {
    const r = await runToExit(t, {
      ...argv(
        t,
        ...none,
        "--pids-limit",
        "20",
        "sh",
        "-c",
        // The subshell forks sleeps until fork fails (ash then exits it); the outer shell only
        // uses builtins afterwards, so it can still report.
        '(while :; do sleep 2 & done) 2>/tmp/err; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo procs=$n; read -r e </tmp/err; echo "err=$e"; echo alive',
      ),
    });
    expect(r.out).toMatch(/err=.*Resource temporarily unavailable/);
    expect(r.out).toContain("alive");
    const procs = Number(/procs=(\d+)/.exec(r.out)?.[1]);
    expect(procs).toBeGreaterThan(10);
    expect(procs).toBeLessThanOrEqual(20);
    expect(r.exitCode).toBe(0);
  });

  it("gives a busy loop under --cpus 0.5 between 40% and 60% of one CPU", async () => {
    const cgroups = detectCgroupDriver(resolveRuntimeConfig(t.config));
    // Two loops ask for two CPUs, so the quota, not the scheduler's fairness, is what binds.
    const s = await t.engine.run(
      argv(t, ...none, "--cpus", "0.5", "sh", "-c", "while :; do :; done & while :; do :; done"),
    );
    try {
      const shares: number[] = [];
      // The quota bounds the group's CPU time per wall-clock period; a loaded host can only give
      // less, so take the best of up to three 2 s windows for the lower bound.
      for (let i = 0; i < 3; i++) {
        const before = (await cgroups.stats(s.id)).cpu.usageNs;
        const t0 = process.hrtime.bigint();
        await new Promise((r) => setTimeout(r, 2000));
        const used = (await cgroups.stats(s.id)).cpu.usageNs - before;
        shares.push(used / Number(process.hrtime.bigint() - t0));
        if (shares.at(-1)! >= 0.25) break;
      }
      // Well above what a wrong quota (0.1 CPU, say) would give, yet reachable on a busy host.
      expect(Math.max(...shares)).toBeGreaterThanOrEqual(0.25);
      for (const share of shares) expect(share).toBeLessThanOrEqual(0.6);
      expect((await cgroups.stats(s.id)).cpu.throttledPeriods).toBeGreaterThan(0);
    } finally {
      await t.engine.remove(s.id, { force: true });
    }
  });

  it("runs as -u 1000:1000 with no effective capabilities", async () => {
    const r = await runToExit(t, {
      ...argv(t, ...none, "-u", "1000:1000", "sh", "-c", "id; grep CapEff /proc/self/status"),
    });
    expect(r.out).toMatch(/^uid=1000 gid=1000/m);
    expect(r.out).toContain("CapEff:\t0000000000000000");
  });

  it("applies --cap-drop and --cap-add to Docker's set; block-device mknod fails even with CAP_MKNOD", async () => {
    const dropped = await runToExit(t, {
      ...argv(
        t,
        ...none,
        "--cap-drop",
        "ALL",
        "--cap-add",
        "NET_ADMIN",
        "grep",
        "Cap",
        "/proc/self/status",
      ),
    });
    // CAP_NET_ADMIN is bit 12.
    expect(dropped.out).toContain("CapEff:\t0000000000001000");
    expect(dropped.out).toContain("CapBnd:\t0000000000001000");
    const mknod = await runToExit(t, {
      ...argv(
        t,
        ...none,
        "sh",
        "-c",
        "mknod /tmp/null c 1 3 && echo CHAR-OK; mknod /tmp/sda b 8 0 && echo BLOCK-OK; exit 0",
      ),
    });
    // The device cgroup allows mknod of character devices only (Docker also allows b *:* m).
    expect(mknod.out).toContain("CHAR-OK");
    expect(mknod.out).not.toContain("BLOCK-OK");
    expect(mknod.out).toMatch(/Operation not permitted/);
  });

  it("resolves -u nobody through the rootfs's /etc/passwd and /etc/group", async () => {
    const r = await runToExit(t, { ...argv(t, ...none, "-u", "nobody", "id") });
    expect(r.out).toMatch(/^uid=65534\(nobody\) gid=65534\(nogroup\)/m);
  });

  it("sets env from -e and --env-file, the working directory and the hostname", async () => {
    const envFile = `${t.dir}/env`;
    fs.writeFileSync(envFile, "FROM_FILE=one\n# comment\nBOTH=file\n");
    const r = await runToExit(t, {
      ...argv(
        t,
        ...none,
        "--env-file",
        envFile,
        "-e",
        "BOTH=flag",
        "-w",
        "/work/dir",
        "--hostname",
        "berth-box",
        "sh",
        "-c",
        'echo "$FROM_FILE $BOTH $(pwd) $(hostname) $HOSTNAME"',
      ),
    });
    expect(r.out.trim()).toBe("one flag /work/dir berth-box berth-box");
  });

  it("binds -v HOST:CTR read-write and :ro read-only", async () => {
    const rw = `${t.dir}/vol-rw`;
    const ro = `${t.dir}/vol-ro`;
    fs.mkdirSync(rw);
    fs.mkdirSync(ro);
    fs.writeFileSync(`${ro}/hello`, "from host\n");
    const r = await runToExit(t, {
      ...argv(
        t,
        ...none,
        "-v",
        `${rw}:/data`,
        "-v",
        `${ro}:/config:ro`,
        "sh",
        "-c",
        "cat /config/hello; echo out > /data/written; touch /config/x && echo WROTE-RO; exit 0",
      ),
    });
    expect(r.out).toContain("from host");
    expect(r.out).toMatch(/Read-only file system/);
    expect(r.out).not.toContain("WROTE-RO");
    expect(fs.readFileSync(`${rw}/written`, "utf8")).toBe("out\n");
    expect(fs.existsSync(`${ro}/x`)).toBe(false);
  });

  it("resolves a mount target's symlinks inside the container's root", async () => {
    // A rootfs whose /escape points at an absolute host path and /up climbs with ../
    const rootfs = `${t.dir}/evil-rootfs`;
    execFileSync("cp", ["-a", t.rootfs, rootfs]);
    const hostSide = `${t.dir}/host-side`;
    fs.mkdirSync(hostSide);
    fs.symlinkSync(hostSide, `${rootfs}/escape`);
    fs.symlinkSync("../../../../../..", `${rootfs}/up`);
    const vol = `${t.dir}/vol-evil`;
    fs.mkdirSync(vol);
    fs.writeFileSync(`${vol}/marker`, "inside\n");
    const r = await runToExit(t, {
      ...parseRunOptions([
        "--rootfs",
        rootfs,
        ...none,
        "-v",
        `${vol}:/escape/x`,
        "-v",
        `${vol}:/up/etc/y`,
        "sh",
        "-c",
        `cat ${hostSide}/x/marker /etc/y/marker`,
      ]),
    });
    // Both landed inside the root: at <root>/<hostSide>/x and <root>/etc/y.
    expect(r.out).toBe("inside\ninside\n");
    expect(fs.readdirSync(hostSide)).toEqual([]);
    expect(r.exitCode).toBe(0);
  });

  it("--network none has only lo, and it is up", async () => {
    const r = await runToExit(t, {
      ...argv(t, ...none, "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags"),
    });
    expect(r.out.trim().split("\n")).toEqual(["lo", "0x9"]);
  });

  it("--stop-signal picks the signal stop sends; a kill is reported as such", async () => {
    const s = await t.engine.run(
      argv(
        t,
        ...none,
        "--stop-signal",
        "SIGUSR1",
        "sh",
        "-c",
        'trap "exit 7" USR1; echo ready; while :; do sleep 0.1; done',
      ),
    );
    // Until the trap is set, SIGUSR1 would simply kill the shell.
    for (let i = 0; i < 100 && !t.engine.logs(s.id).some((l) => l.log.startsWith("ready")); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const stopped = await t.engine.stop(s.id, 5);
    expect(stopped).toMatchObject({ exitCode: 7, exitReason: "exited" });
    await t.engine.remove(s.id);
    const k = await t.engine.run(argv(t, ...none, "sleep", "30"));
    await t.engine.kill(k.id, "SIGKILL");
    expect(await t.engine.wait(k.id)).toMatchObject({
      exitCode: 137,
      signal: "SIGKILL",
      reason: "killed by SIGKILL",
      oomKilled: false,
    });
    await t.engine.remove(k.id);
  });

  it("--rm removes the container once it exits", async () => {
    const s = await t.engine.run(argv(t, ...none, "--rm", "true"));
    await t.engine.wait(s.id);
    await new Promise((r) => setTimeout(r, 100));
    expect(() => t.engine.inspect(s.id)).toThrow(/no such container/);
    expectNothingLeft(t);
  });

  it("writes config.json, the OCI spec every start executes", async () => {
    const s = await t.engine.create(argv(t, ...none, "-m", "64m", "--pids-limit", "50", "true"));
    const spec = JSON.parse(
      fs.readFileSync(`${t.config.root}/containers/${s.id}/config.json`, "utf8"),
    );
    expect(spec.process.args).toEqual(["true"]);
    expect(spec.linux.resources).toMatchObject({
      memory: { limit: 64 << 20 },
      pids: { limit: 50 },
    });
    expect(spec.linux.seccomp.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(spec.linux.maskedPaths).toContain("/proc/kcore");
    await t.engine.remove(s.id);
  });

  describe("bad input: one clear line, nothing left behind", () => {
    const expectOneLine = async (attempt: () => unknown, message: RegExp) => {
      let error: Error | undefined;
      try {
        await attempt();
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain("\n");
      expectNothingLeft(t);
    };

    it("a missing rootfs", () =>
      expectOneLine(
        () => t.engine.run(parseRunOptions(["--rootfs", "/nonexistent/rootfs", "true"])),
        /^rootfs \/nonexistent\/rootfs is not a directory$/,
      ));

    it("malformed -m, -p, -v and -u values", async () => {
      await expectOneLine(() => t.engine.run(argv(t, "-m", "lots", "true")), /-m|--memory/);
      await expectOneLine(() => t.engine.run(argv(t, "-p", "80:99999", "true")), /-p|--publish/);
      await expectOneLine(
        () => t.engine.run(argv(t, "-v", "./relative:/x", "true")),
        /-v|--volume/,
      );
      await expectOneLine(() => t.engine.run(argv(t, "-u", "a:b:c", "true")), /-u|--user/);
    });

    it("a user the rootfs does not know, a volume source that does not exist", async () => {
      await expectOneLine(
        () => t.engine.run(argv(t, ...none, "-u", "nosuchuser", "true")),
        /unable to find user nosuchuser/,
      );
      await expectOneLine(
        () => t.engine.run(argv(t, ...none, "-v", "/nonexistent/src:/x", "true")),
        /host path \/nonexistent\/src does not exist/,
      );
    });

    it("a duplicate name", async () => {
      const s = await t.engine.run(argv(t, ...none, "--name", "berth-test-dup", "sleep", "30"));
      let error: Error | undefined;
      try {
        await t.engine.run(argv(t, ...none, "--name", "berth-test-dup", "true"));
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toBe("the container name berth-test-dup is already in use");
      expect(t.engine.list({ all: true }).map((c) => c.id)).toEqual([s.id]);
      await t.engine.remove(s.id, { force: true });
      expectNothingLeft(t);
    });

    it("a limit the kernel would refuse (-m under 6 MiB)", () =>
      expectOneLine(() => t.engine.run(argv(t, ...none, "-m", "1m", "true")), /6 MiB|memory/));
  });
});
