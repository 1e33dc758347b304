import { describe, expect, it } from "vitest";
import { buildOciSpec } from "../spec/build-oci-spec.ts";
import type { OciSpec } from "../spec/oci-schema.ts";
import { parseRunOptions } from "../spec/run-options.ts";
import { CLONE, CLOSE_RANGE_CLOEXEC, F_SETFD, MS, PR, TIOCSCTTY } from "../sys/constants.ts";
import { RecordingSyscalls } from "../sys/recording-syscalls.ts";
import { INIT_PATH } from "./init-script.ts";
import { type PlanFailure, planFailureError } from "./plan-failure.ts";
import { runPlan } from "./run-plan.mjs";
import { buildStartPlan, parseMountOptions, type StartHost } from "./start-plan.ts";

const C = "/var/lib/berth/containers/abc";
const R = `${C}/merged`;
const HOST: StartHost = {
  overlay: { lowerDirs: ["/rootfs"], upperDir: `${C}/upper`, workDir: `${C}/work` },
  stdinPath: "/dev/null",
  stdoutPath: "/run/berth/abc/stdout",
  stderrPath: "/run/berth/abc/stderr",
  exitStatusPath: `${C}/exit-status`,
  initBinary: "/bin/busybox",
  lastCap: 40,
};

/** Docker's spec for `run [argv] true`, user 1000:1000 with group 10 unless -u says otherwise. */
function spec(argv: string[] = [], netns?: string): OciSpec {
  return buildOciSpec(parseRunOptions(["--rootfs", "/rootfs", ...argv, "true"]), {
    rootfs: R,
    hostname: "box",
    user: { uid: 1000, gid: 1000, additionalGids: [10], home: "/" },
    hostNofileHard: 4096,
    kernelRelease: "6.18.0",
    ...(netns ? { networkNamespacePath: netns } : {}),
    etcFiles: { hosts: `${C}/hosts`, hostname: `${C}/hostname`, resolvConf: `${C}/resolv.conf` },
  });
}

/** Runs the plan like the zygote does: setup, command lookup, finish. */
function runLikeZygote(sys: RecordingSyscalls, s: OciSpec) {
  const plan = buildStartPlan(s, HOST);
  const saved = runPlan(sys, plan.setup);
  saved.exe = sys.lookPath(plan.command, plan.pathVar);
  runPlan(sys, plan.finish, saved);
}

const BIN_TRUE = { "/usr/bin/true": "file" } as const;

describe("buildStartPlan", () => {
  it("opens host files, unshares, mounts the rootfs, pivots, then drops privileges and execs", () => {
    const sys = new RecordingSyscalls({
      ...BIN_TRUE,
      "/bin/busybox": "file",
      "/proc/sys": "dir",
      "/proc/keys": "file",
    });
    runLikeZygote(sys, spec());
    const t = sys.trace();
    const idx = (prefix: string) => t.findIndex((c) => c.startsWith(prefix));
    // Host paths first, before the mount namespace changes.
    expect(t.slice(0, 4).map((c) => c.split(",")[0])).toEqual([
      "open(/dev/null",
      "open(/run/berth/abc/stdout",
      "open(/run/berth/abc/stderr",
      `open(${C}/exit-status`,
    ]);
    expect(t[4]).toBe(
      `unshare(${CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP | CLONE.NEWNET})`,
    );
    // The new network namespace (--network none) gets its lo up.
    expect(t[5]).toBe("interfaceUp(lo)");
    expect(t[6]).toBe(`mount(null,/,null,${MS.REC | MS.SLAVE},null)`);
    expect(t[7]).toBe(`mountOverlay(${R},[/rootfs],${C}/upper,${C}/work)`);
    expect(t).toContain(`mount(proc,${R}/proc,proc,${MS.NOSUID | MS.NOEXEC | MS.NODEV},null)`);
    expect(t).toContain(
      `mount(tmpfs,${R}/dev,tmpfs,${MS.NOSUID | MS.STRICTATIME},mode=755,size=65536k)`,
    );
    // The six character devices go into /dev once its tmpfs is there.
    expect(idx(`mknod(${R}/dev/null,`)).toBeGreaterThan(idx(`mount(tmpfs,${R}/dev,`));
    // The init: a bind, then a read-only remount.
    expect(t).toContain(`mount(/bin/busybox,${R}${INIT_PATH},null,${MS.BIND},null)`);
    expect(t).toContain(
      `mount(/bin/busybox,${R}${INIT_PATH},null,${MS.BIND | MS.REMOUNT | MS.RDONLY},null)`,
    );
    // /etc files are bound from the host.
    expect(t).toContain(`mount(${C}/hosts,${R}/etc/hosts,null,${MS.BIND | MS.REC},null)`);
    // No cgroup mount on a v1 layout.
    expect(t.some((c) => c.includes("/sys/fs/cgroup"))).toBe(false);
    // pivot_root(".", ".") then detach the old root, in that order, before the masks.
    const pivot = idx("pivotRoot(.,.)");
    expect(t.slice(pivot - 1, pivot + 3)).toEqual([
      `chdir(${R})`,
      "pivotRoot(.,.)",
      "umount2(.,2)",
      "chdir(/)",
    ]);
    expect(idx("mount(/dev/null,/proc/keys")).toBeGreaterThan(pivot);
    expect(idx("mount(/proc/sys,/proc/sys")).toBeGreaterThan(pivot);
    expect(t).toContain("sethostname(box)");
    expect(t).toContain("setrlimit(7,4096,4096)");
    // Credentials: bounding set, then gids before uid, then capset, nnp, fds, seccomp, execve.
    const seq = [
      idx("prctl(24,"),
      idx("setgroups([10])"),
      idx("setresgid(1000,1000,1000)"),
      idx("setresuid(1000,1000,1000)"),
      idx("capset("),
      idx("prctl(38,1"),
      idx("dup2(100,0)"),
      idx("closeRange(4,4294967295,4)"),
      idx("seccompInstall("),
      idx("execve("),
    ];
    expect(seq.every((i) => i >= 0)).toBe(true);
    expect([...seq].sort((a, b) => a - b)).toEqual(seq);
    // Not root: no effective or permitted capabilities.
    expect(t[idx("capset(")]).toBe("capset(0,0,0)");
    expect(t.at(-1)).toMatch(
      /^execve\(\/dev\/\.berth-init,\[sh -c .* berth-init \/usr\/bin\/true\],/,
    );
  });

  it("drops exactly the capabilities outside Docker's set from the bounding set", () => {
    const sys = new RecordingSyscalls(BIN_TRUE);
    runLikeZygote(sys, spec());
    const dropped = sys.calls
      .filter((c) => c.call === "prctl" && c.args[0] === 24)
      .map((c) => c.args[1] as number);
    const kept = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];
    expect(dropped).toEqual([...Array(41).keys()].filter((c) => !kept.includes(c)));
  });

  it("installs Docker's default seccomp profile compiled for the container", () => {
    const plan = buildStartPlan(spec(), HOST);
    const install = plan.finish.find((s) => s.call === "seccompInstall")!;
    const bytes = Buffer.from((install.args[0] as { bytes: string }).bytes, "base64");
    expect(bytes.length % 8).toBe(0);
    expect(bytes.length / 8).toBeGreaterThan(100);
    expect(install.args[1]).toBe(0);
    expect(
      buildStartPlan(spec(["--security-opt", "seccomp=unconfined"]), HOST).finish.some(
        (s) => s.call === "seccompInstall",
      ),
    ).toBe(false);
  });

  it("installs the filter before dropping privileges when no_new_privs is off", () => {
    const plan = buildStartPlan(spec(["--security-opt", "no-new-privileges=false"]), HOST);
    const calls = plan.finish.map((s) => s.call);
    expect(calls.indexOf("seccompInstall")).toBeLessThan(calls.indexOf("setresuid"));
    expect(plan.finish.some((s) => s.call === "prctl" && s.args[0] === 38)).toBe(false);
  });

  it("joins a network namespace file instead of creating one", () => {
    const sys = new RecordingSyscalls(BIN_TRUE);
    runLikeZygote(sys, spec([], "/run/berth/netns/abc"));
    const t = sys.trace();
    const open = t.indexOf(`open(/run/berth/netns/abc,${0o2000000},0)`);
    expect(open).toBe(4);
    expect(t[open + 1]).toBe(
      `unshare(${CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP})`,
    );
    expect(t[open + 2]).toBe(`setns(104,${CLONE.NEWNET})`);
    expect(t).not.toContain("interfaceUp(lo)");
  });

  it("keeps the host's network namespace for --network host", () => {
    const plan = buildStartPlan(spec(["--network", "host"]), HOST);
    const unshare = plan.setup.find((s) => s.call === "unshare");
    expect(unshare?.args[0]).toBe(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP);
  });

  it("resolves mount targets inside the root: a symlink cannot lead a bind out of it", () => {
    const sys = new RecordingSyscalls(
      { ...BIN_TRUE, "/host/data": "dir" },
      // The image's /data is a link to the host's /etc (absolute: it restarts at the root).
      { [`${R}/data`]: "/etc", [`${R}/etc`]: "../../../../.." },
    );
    runLikeZygote(sys, spec(["-v", "/host/data:/data/x:ro"]));
    const t = sys.trace();
    expect(t).toContain(`mount(/host/data,${R}/x,null,${MS.BIND | MS.REC},null)`);
    expect(t).toContain(`mount(/host/data,${R}/x,null,${MS.BIND | MS.REMOUNT | MS.RDONLY},null)`);
    expect(t).toContain(`mount(null,${R}/x,null,${MS.PRIVATE | MS.REC},null)`);
    expect(t.some((c) => c.startsWith("mount(/host/data,/etc"))).toBe(false);
  });

  it("skips mkdir of an existing mountpoint but stops at any other failure, naming the step", () => {
    const sys = new RecordingSyscalls(BIN_TRUE).failOn({ call: "mkdir", errnoName: "EEXIST" });
    runLikeZygote(sys, spec());
    const failing = new RecordingSyscalls().failOn({ call: "mountOverlay", errnoName: "EINVAL" });
    const plan = buildStartPlan(spec(), HOST);
    let error: { step?: number; errnoName?: string } | undefined;
    try {
      runPlan(failing, plan.setup);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.errnoName).toBe("EINVAL");
    expect(error?.step).toBe(7);
    // Nothing after the failed step ran: no pivot_root, no exec.
    expect(failing.calls.at(-1)?.call).toBe("mountOverlay");
    expect(failing.calls).toHaveLength(8);
  });

  it("with -t: a pty of the container's devpts after pivot_root, fds 0-2 and the ctty", () => {
    const sys = new RecordingSyscalls(BIN_TRUE);
    const plan = buildStartPlan(spec(["-t"]), HOST);
    expect(plan.console).toBe("console");
    const saved = runPlan(sys, plan.setup);
    saved.exe = sys.lookPath(plan.command, plan.pathVar);
    runPlan(sys, plan.finish, saved);
    const t = sys.trace();
    // No host stdio is opened: only the exit-status file (bind mount points are created later).
    expect(t[0]?.split(",")[0]).toBe(`open(${C}/exit-status`);
    expect(t.some((c) => c.startsWith("open(/dev/null") || c.startsWith("open(/run/"))).toBe(false);
    const ptmx = t.indexOf("ptmxOpen(/dev/pts/ptmx)");
    expect(ptmx).toBeGreaterThan(t.indexOf("pivotRoot(.,.)"));
    expect(t[ptmx + 1]).toBe(`ptyPeer(${saved.console})`);
    expect(plan.setup.at(-1)).toMatchObject({ call: "ptyPeer", save: "tty" });
    const tty = saved.tty as number;
    const nnp = t.findIndex((c) => c.startsWith(`prctl(${PR.SET_NO_NEW_PRIVS},1`));
    expect(t.slice(nnp + 1, nnp + 8)).toEqual([
      `dup2(${tty},0)`,
      `dup2(${tty},1)`,
      `dup2(${tty},2)`,
      `ioctl(0,${TIOCSCTTY},0)`,
      `dup2(${saved.status},3)`,
      `fcntl(3,${F_SETFD},0)`,
      `closeRange(4,4294967295,${CLOSE_RANGE_CLOEXEC})`,
    ]);
    expect(t.at(-2)).toMatch(/^seccompInstall\(/);
    expect(t.at(-1)).toMatch(/^execve\(/);
  });

  it("a failed step reads as what it was for, the call, the path and the errno", () => {
    const plan = buildStartPlan(spec(["-w", "/etc/passwd/sub"]), HOST);
    const sys = new RecordingSyscalls().failOn({
      call: "mkdir",
      match: (a) => a[0] === `${R}/etc/passwd/sub`,
      errnoName: "ENOTDIR",
    });
    let failure: PlanFailure | undefined;
    try {
      runPlan(sys, plan.setup);
    } catch (e) {
      failure = { ...(e as PlanFailure), message: (e as Error).message };
    }
    expect(planFailureError(plan, failure!).message).toBe(
      `creating the working directory /etc/passwd/sub (setup step ${failure!.step}): ` +
        `mkdir("${R}/etc/passwd/sub", 493) failed: ENOTDIR`,
    );
  });

  it("reports a command that is not in the container's PATH", () => {
    const sys = new RecordingSyscalls({});
    expect(() => runLikeZygote(sys, spec())).toThrow(/command not found: true/);
    expect(sys.calls.some((c) => c.call === "execve")).toBe(false);
  });
});

describe("parseMountOptions", () => {
  it("splits flags, propagation and data like runc", () => {
    expect(parseMountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"])).toEqual({
      flags: MS.NOSUID | MS.STRICTATIME,
      propagation: 0,
      data: "mode=755,size=65536k",
    });
    expect(parseMountOptions(["rbind", "rprivate", "ro"])).toEqual({
      flags: MS.BIND | MS.REC | MS.RDONLY,
      propagation: MS.PRIVATE | MS.REC,
      data: null,
    });
    expect(parseMountOptions(["ro", "rw"]).flags).toBe(0);
  });
});
