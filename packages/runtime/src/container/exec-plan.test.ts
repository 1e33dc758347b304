import { describe, expect, it } from "vitest";
import { capabilityMask, DOCKER_DEFAULT_CAPABILITIES } from "../security/capabilities.ts";
import { buildOciSpec } from "../spec/build-oci-spec.ts";
import type { OciSpec } from "../spec/oci-schema.ts";
import { parseRunOptions } from "../spec/run-options.ts";
import { CLONE, F_SETFD, O, PR, TIOCSCTTY } from "../sys/constants.ts";
import { RecordingSyscalls } from "../sys/recording-syscalls.ts";
import { buildExecPlan, CLONE_FS, execProcessFor } from "./exec-plan.ts";
import { runPlan } from "./run-plan.mjs";

const C = "/var/lib/berth/containers/abc";
const INIT = 4242;

/** The spec `run [argv] true` gets, root with HOME /root, as create writes it to config.json. */
function spec(argv: string[] = [], netns?: string): OciSpec {
  return buildOciSpec(parseRunOptions(["--rootfs", "/rootfs", "-e", "A=1", ...argv, "true"]), {
    rootfs: `${C}/merged`,
    hostname: "box",
    user: { uid: 0, gid: 0, additionalGids: [], home: "/root" },
    hostNofileHard: 4096,
    kernelRelease: "6.18.0",
    ...(netns ? { networkNamespacePath: netns } : {}),
  });
}

/** Runs the plan like the exec zygote: setup, command lookup, finish. */
function runLikeExecZygote(
  sys: RecordingSyscalls,
  s: OciSpec,
  proc = execProcessFor(s, { args: ["ls", "-l"] }),
) {
  const plan = buildExecPlan(s, proc, { initPid: INIT, lastCap: 40 });
  const saved = runPlan(sys, plan.setup);
  saved.exe = sys.lookPath(plan.command, plan.pathVar);
  runPlan(sys, plan.finish, saved);
  return plan;
}

const BIN_LS = { "/usr/bin/ls": "file" } as const;
const hex = (names: readonly string[]) => capabilityMask(names);

describe("buildExecPlan", () => {
  it("opens every namespace file, joins them, then takes the container's credentials and execs", () => {
    const sys = new RecordingSyscalls(BIN_LS);
    const s = spec([], "/run/berth/netns/abc");
    runLikeExecZygote(sys, s);
    const t = sys.trace();
    const setns = (fd: number, flag: number) => `setns(${fd},${flag})`;
    const dropped = t.filter((c) => c.startsWith(`prctl(${PR.CAPBSET_DROP},`));
    expect(dropped).toHaveLength(41 - DOCKER_DEFAULT_CAPABILITIES.length);
    const caps = hex(DOCKER_DEFAULT_CAPABILITIES);
    const ro = O.RDONLY | O.CLOEXEC;
    expect(t.filter((c) => !c.startsWith(`prctl(${PR.CAPBSET_DROP},`))).toEqual([
      // The container's init's namespaces, all opened while the host's /proc is still there.
      `open(/proc/${INIT}/ns/ipc,${ro},0)`,
      `open(/proc/${INIT}/ns/uts,${ro},0)`,
      `open(/proc/${INIT}/ns/net,${ro},0)`,
      `open(/proc/${INIT}/ns/mnt,${ro},0)`,
      `open(/proc/${INIT}/ns/cgroup,${ro},0)`,
      `unshare(${CLONE_FS})`,
      setns(100, CLONE.NEWIPC),
      "close(100)",
      setns(101, CLONE.NEWUTS),
      "close(101)",
      setns(102, CLONE.NEWNET),
      "close(102)",
      setns(103, CLONE.NEWNS),
      "close(103)",
      setns(104, CLONE.NEWCGROUP),
      "close(104)",
      "chdir(/)",
      "setrlimit(7,4096,4096)",
      `umask(${0o022})`,
      "lookPath(ls,/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)",
      `prctl(${PR.SET_KEEPCAPS},1,0,0,0)`,
      "setgroups([])",
      "setresgid(0,0,0)",
      "setresuid(0,0,0)",
      `prctl(${PR.SET_KEEPCAPS},0,0,0,0)`,
      `capset(${caps},${caps},0)`,
      `prctl(${PR.CAP_AMBIENT},${PR.CAP_AMBIENT_CLEAR_ALL},0,0,0)`,
      `prctl(${PR.SET_NO_NEW_PRIVS},1,0,0,0)`,
      `fcntl(0,${F_SETFD},0)`,
      `fcntl(1,${F_SETFD},0)`,
      `fcntl(2,${F_SETFD},0)`,
      `closeRange(3,${0xffffffff},4)`,
      expect.stringMatching(/^seccompInstall\(<\d+B>,\d+\)$/),
      "execve(/usr/bin/ls,[ls -l],[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=box A=1 HOME=/root])",
    ]);
    // The bounding set is dropped before the uid changes (CAP_SETPCAP is still held).
    expect(t.findIndex((c) => c.startsWith(`prctl(${PR.CAPBSET_DROP},`))).toBeLessThan(
      t.indexOf(`prctl(${PR.SET_KEEPCAPS},1,0,0,0)`),
    );
  });

  it("does not join a network namespace the container shares with the host", () => {
    const sys = new RecordingSyscalls(BIN_LS);
    runLikeExecZygote(sys, spec(["--network", "host"]));
    expect(sys.trace().some((c) => c.includes("/ns/net"))).toBe(false);
    expect(sys.trace().some((c) => c === `setns(103,${CLONE.NEWNET})`)).toBe(false);
  });

  it("with a tty makes fd 0 the controlling terminal and sets TERM", () => {
    const sys = new RecordingSyscalls(BIN_LS);
    const s = spec();
    const proc = execProcessFor(s, { args: ["ls"], tty: true });
    expect(proc.env).toContain("TERM=xterm");
    runLikeExecZygote(sys, s, proc);
    const t = sys.trace();
    const ctty = t.indexOf(`ioctl(0,${TIOCSCTTY},0)`);
    expect(ctty).toBeGreaterThan(t.indexOf(`prctl(${PR.SET_NO_NEW_PRIVS},1,0,0,0)`));
    expect(ctty).toBeLessThan(t.indexOf(`fcntl(0,${F_SETFD},0)`));
  });

  it("without no_new_privs installs the filter before giving up CAP_SYS_ADMIN", () => {
    const sys = new RecordingSyscalls(BIN_LS);
    runLikeExecZygote(sys, spec(["--security-opt", "no-new-privileges=false"]));
    const t = sys.trace();
    const filter = t.findIndex((c) => c.startsWith("seccompInstall"));
    expect(filter).toBeLessThan(t.findIndex((c) => c.startsWith("setresuid")));
    expect(t.some((c) => c.startsWith(`prctl(${PR.SET_NO_NEW_PRIVS}`))).toBe(false);
  });

  it("stops at the first failing step and names it (a missing working directory)", () => {
    const sys = new RecordingSyscalls(BIN_LS).failOn({ call: "chdir", errnoName: "ENOENT" });
    const s = spec();
    const plan = buildExecPlan(s, execProcessFor(s, { args: ["ls"], cwd: "/nope" }), {
      initPid: INIT,
      lastCap: 40,
    });
    let error: { step?: number; errnoName?: string } | undefined;
    try {
      runPlan(sys, plan.setup);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.errnoName).toBe("ENOENT");
    expect(plan.setup[error!.step!]).toEqual({ call: "chdir", args: ["/nope"] });
    expect(sys.trace().at(-1)).toBe("chdir(/nope)");
  });

  it("refuses a container in a user namespace", () => {
    const s = spec();
    s.linux!.namespaces!.push({ type: "user" });
    expect(() => buildExecPlan(s, s.process, { initPid: 1, lastCap: 40 })).toThrow(
      /user namespace/,
    );
  });
});

describe("execProcessFor", () => {
  it("starts from the container's process: env merged, cwd and user overridable", () => {
    const s = spec(["-w", "/srv", "-e", "B=2"]);
    const p = execProcessFor(s, { args: ["env"], env: ["B=3", "C=4"] });
    expect(p.env).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=box",
      "A=1",
      "B=3",
      "HOME=/root",
      "C=4",
    ]);
    expect(p.cwd).toBe("/srv");
    expect(execProcessFor(s, { args: ["env"], cwd: "/tmp" }).cwd).toBe("/tmp");
    expect(p.capabilities).toEqual(s.process.capabilities);
    expect(p.noNewPrivileges).toBe(true);
  });

  it("gives another non-root user the bounding set only, as Docker does", () => {
    const s = spec();
    const p = execProcessFor(s, {
      args: ["id"],
      user: { uid: 1000, gid: 1000, additionalGids: [10], home: "/home/app" },
    });
    expect(p.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [10] });
    expect(p.capabilities?.bounding).toEqual(s.process.capabilities?.bounding);
    expect(p.capabilities?.effective).toEqual([]);
    expect(p.capabilities?.permitted).toEqual([]);
    expect(p.env).toContain("HOME=/home/app");
  });

  it("rejects an empty command, a relative cwd and a malformed env entry", () => {
    const s = spec();
    expect(() => execProcessFor(s, { args: [] })).toThrow(/needs a command/);
    expect(() => execProcessFor(s, { args: ["ls"], cwd: "tmp" })).toThrow(/not absolute/);
    expect(() => execProcessFor(s, { args: ["ls"], env: ["NOPE"] })).toThrow(/K=V/);
  });
});
