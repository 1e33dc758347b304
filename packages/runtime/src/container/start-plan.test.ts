import { describe, expect, it } from "vitest";
import { CLONE, MS } from "../sys/constants.ts";
import { RecordingSyscalls } from "../sys/recording-syscalls.ts";
import {
  DOCKER_DEFAULT_CAPS,
  DOCKER_MASKED_PATHS,
  DOCKER_READONLY_PATHS,
} from "./docker-defaults.ts";
import { INIT_PATH } from "./init-script.ts";
import { runPlan } from "./run-plan.mjs";
import { buildStartPlan } from "./start-plan.ts";
import type { StartSpec } from "./start-spec.ts";

const C = "/var/lib/berth/containers/abc";
function spec(overrides: Partial<StartSpec> = {}): StartSpec {
  return {
    lowerDir: "/rootfs",
    upperDir: `${C}/upper`,
    workDir: `${C}/work`,
    mergedDir: `${C}/merged`,
    stdinPath: "/dev/null",
    stdoutPath: "/run/berth/abc/stdout",
    stderrPath: "/run/berth/abc/stderr",
    exitStatusPath: `${C}/exit-status`,
    etcFiles: { hosts: `${C}/hosts`, hostname: `${C}/hostname`, resolvConf: `${C}/resolv.conf` },
    initBinary: "/bin/busybox",
    hostname: "box",
    network: { mode: "none" },
    mounts: [],
    maskedPaths: DOCKER_MASKED_PATHS,
    readonlyPaths: DOCKER_READONLY_PATHS,
    process: {
      args: ["true"],
      env: ["PATH=/bin"],
      cwd: "/",
      uid: 1000,
      gid: 1000,
      additionalGids: [10],
      capabilities: DOCKER_DEFAULT_CAPS,
      rlimits: [{ resource: 7, soft: 1024, hard: 4096 }],
      noNewPrivileges: true,
    },
    seccomp: new Uint8Array(16),
    lastCap: 40,
    ...overrides,
  };
}

/** Runs the plan like the zygote does: setup, command lookup, finish. */
function runLikeZygote(sys: RecordingSyscalls, s: StartSpec) {
  const plan = buildStartPlan(s);
  const saved = runPlan(sys, plan.setup);
  saved.exe = sys.lookPath(plan.command, plan.pathVar);
  runPlan(sys, plan.finish, saved);
}

describe("buildStartPlan", () => {
  it("opens host files, unshares, mounts the rootfs, pivots, then drops privileges and execs", () => {
    const sys = new RecordingSyscalls({
      "/bin/true": "file",
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
    expect(t[5]).toBe(`mount(null,/,null,${MS.REC | MS.SLAVE},null)`);
    expect(t[6]).toBe(
      `mount(overlay,${C}/merged,overlay,0,lowerdir=/rootfs,upperdir=${C}/upper,workdir=${C}/work)`,
    );
    expect(t).toContain(
      `mount(proc,${C}/merged/proc,proc,${MS.NOSUID | MS.NOEXEC | MS.NODEV},null)`,
    );
    expect(t).toContain(
      `mount(/bin/busybox,${C}/merged${INIT_PATH},null,${MS.BIND | MS.REC},null)`,
    );
    // pivot_root(".", ".") then detach the old root, in that order, before the masks.
    const pivot = idx("pivotRoot(.,.)");
    expect(t.slice(pivot - 1, pivot + 3)).toEqual([
      `chdir(${C}/merged)`,
      "pivotRoot(.,.)",
      "umount2(.,2)",
      "chdir(/)",
    ]);
    expect(idx("mount(/dev/null,/proc/keys")).toBeGreaterThan(pivot);
    expect(idx("mount(/proc/sys,/proc/sys")).toBeGreaterThan(pivot);
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
      idx("seccompInstall(<16B>)"),
      idx("execve("),
    ];
    expect(seq.every((i) => i >= 0)).toBe(true);
    expect([...seq].sort((a, b) => a - b)).toEqual(seq);
    expect(t.at(-1)).toMatch(
      /^execve\(\/dev\/\.berth-init,\[sh -c .* berth-init \/bin\/true\],\[PATH=\/bin\]\)$/,
    );
  });

  it("drops exactly the capabilities outside Docker's set from the bounding set", () => {
    const sys = new RecordingSyscalls({ "/bin/true": "file" });
    runLikeZygote(sys, spec());
    const dropped = sys.calls
      .filter((c) => c.call === "prctl" && c.args[0] === 24)
      .map((c) => c.args[1] as number);
    const kept = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];
    expect(dropped).toEqual([...Array(41).keys()].filter((c) => !kept.includes(c)));
  });

  it("joins a network namespace file instead of creating one", () => {
    const sys = new RecordingSyscalls({ "/bin/true": "file" });
    runLikeZygote(sys, spec({ network: { mode: "path", path: "/run/berth/netns/abc" } }));
    const t = sys.trace();
    const open = t.indexOf(`open(/run/berth/netns/abc,${0o2000000},0)`);
    expect(open).toBeGreaterThanOrEqual(0);
    expect(t[open + 1]).toBe(
      `unshare(${CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP})`,
    );
    expect(t[open + 2]).toBe(`setns(104,${CLONE.NEWNET})`);
  });

  it("skips mkdir of an existing mountpoint but stops at any other failure, naming the step", () => {
    const sys = new RecordingSyscalls({ "/bin/true": "file" }).failOn({
      call: "mkdir",
      errnoName: "EEXIST",
    });
    runLikeZygote(sys, spec());
    const failing = new RecordingSyscalls().failOn({
      call: "mount",
      match: (a) => a[2] === "overlay",
      errnoName: "EINVAL",
    });
    const plan = buildStartPlan(spec());
    let error: { step?: number; errnoName?: string } | undefined;
    try {
      runPlan(failing, plan.setup);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.errnoName).toBe("EINVAL");
    expect(error?.step).toBe(6);
    // Nothing after the failed step ran: no pivot_root, no exec.
    expect(failing.calls.at(-1)?.call).toBe("mount");
    expect(failing.calls).toHaveLength(7);
  });

  it("reports a command that is not in the container's PATH", () => {
    const sys = new RecordingSyscalls({});
    expect(() => runLikeZygote(sys, spec())).toThrow(/command not found: true/);
    expect(sys.calls.some((c) => c.call === "execve")).toBe(false);
  });
});
