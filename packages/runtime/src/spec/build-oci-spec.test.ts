import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilityMask } from "../security/capabilities.ts";
import { compileSeccomp } from "../security/seccomp/compile-filter.ts";
import { type BuildSpecContext, buildOciSpec } from "./build-oci-spec.ts";
import { DOCKER_MASKED_PATHS } from "./docker-defaults.ts";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { ociSpecSchema } from "./oci-schema.ts";
import { parseRunOptions } from "./run-options.ts";

let rootfs: string;
beforeAll(() => {
  rootfs = mkdtempSync(join(tmpdir(), "berth-test-spec-"));
  mkdirSync(join(rootfs, "etc"));
  writeFileSync(
    join(rootfs, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
  );
  writeFileSync(join(rootfs, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
});
afterAll(() => rmSync(rootfs, { recursive: true, force: true }));

const context = (extra: Partial<BuildSpecContext> = {}): BuildSpecContext => ({
  rootfs,
  hostname: "0123456789ab",
  hostNofileHard: 20000,
  kernelRelease: "6.18.44-fc-v595",
  ...extra,
});
const build = (argv: string[], extra?: Partial<BuildSpecContext>) =>
  buildOciSpec(parseRunOptions(["--rootfs", rootfs, ...argv]), context(extra));

describe("buildOciSpec with Docker's defaults", () => {
  const spec = () => build(["sh", "-c", "echo hi"]);

  it("is a valid config.json", () => {
    expect(() => ociSpecSchema.parse(JSON.parse(JSON.stringify(spec())))).not.toThrow();
    expect(spec().ociVersion).toBe("1.2.0");
    expect(spec().root).toEqual({ path: rootfs, readonly: false });
    expect(spec().hostname).toBe("0123456789ab");
  });

  it("runs the command as root in / with PATH, HOSTNAME and HOME", () => {
    expect(spec().process).toMatchObject({
      terminal: false,
      user: { uid: 0, gid: 0, additionalGids: [] },
      args: ["sh", "-c", "echo hi"],
      cwd: "/",
      env: [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=0123456789ab",
        "HOME=/root",
      ],
      noNewPrivileges: true,
    });
  });

  it("gives root Docker's capability set in bounding, effective and permitted only", () => {
    const caps = spec().process.capabilities!;
    expect(capabilityMask(caps.bounding!)).toBe(0xa80425fbn);
    expect(capabilityMask(caps.effective!)).toBe(0xa80425fbn);
    expect(capabilityMask(caps.permitted!)).toBe(0xa80425fbn);
    expect(caps.inheritable).toEqual([]);
    expect(caps.ambient).toEqual([]);
  });

  it("sets NOFILE to min(host hard limit, 1048576)", () => {
    expect(spec().process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", soft: 20000, hard: 20000 }]);
    expect(build(["sh"], { hostNofileHard: 4_000_000 }).process.rlimits![0]!.hard).toBe(1_048_576);
  });

  it("creates mount, pid, uts, ipc, cgroup and network namespaces", () => {
    expect(
      spec()
        .linux!.namespaces!.map((n) => n.type)
        .sort(),
    ).toEqual(["cgroup", "ipc", "mount", "network", "pid", "uts"]);
  });

  it("mounts what Docker mounts", () => {
    const mounts = spec().mounts!;
    expect(mounts.map((m) => m.destination)).toEqual([
      "/proc",
      "/dev",
      "/dev/pts",
      "/sys",
      "/sys/fs/cgroup",
      "/dev/mqueue",
      "/dev/shm",
    ]);
    const by = (d: string) => mounts.find((m) => m.destination === d)!;
    expect(by("/dev")).toEqual({
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    });
    expect(by("/dev/pts").options).toEqual([
      "nosuid",
      "noexec",
      "newinstance",
      "ptmxmode=0666",
      "mode=0620",
      "gid=5",
    ]);
    expect(by("/dev/shm").options).toContain("size=65536k");
    expect(by("/sys").options).toContain("ro");
    expect(by("/sys/fs/cgroup").options).toEqual(["ro", "nosuid", "noexec", "nodev"]);
  });

  it("masks and write-protects Docker's paths", () => {
    const linux = spec().linux!;
    for (const p of [
      "/proc/kcore",
      "/proc/keys",
      "/proc/timer_list",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/proc/interrupts",
      "/sys/devices/virtual/powercap",
      "/proc/acpi",
      "/proc/asound",
      "/proc/latency_stats",
      "/proc/timer_stats",
    ]) {
      expect(linux.maskedPaths).toContain(p);
    }
    expect(linux.readonlyPaths).toEqual([
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger",
    ]);
    const extra = build(["sh"], {
      extraMaskedPaths: ["/sys/devices/system/cpu/cpu0/thermal_throttle"],
    }).linux!.maskedPaths!;
    expect(extra).toEqual([
      ...DOCKER_MASKED_PATHS,
      "/sys/devices/system/cpu/cpu0/thermal_throttle",
    ]);
  });

  it("carries the default seccomp profile, resolved for these capabilities, and it compiles", () => {
    const seccomp = spec().linux!.seccomp!;
    expect(seccomp.defaultAction).toBe("SCMP_ACT_ERRNO");
    const names = seccomp.syscalls!.flatMap((s) => s.names);
    expect(names).toContain("chroot");
    expect(names).not.toContain("mount");
    expect(() => compileSeccomp(seccomp)).not.toThrow();
  });

  it("limits devices: no block-device mknod, the /dev set allowed", () => {
    const devices = spec().linux!.resources!.devices!;
    expect(devices[0]).toEqual({ allow: false, access: "rwm" });
    expect(devices.some((d) => d.allow && d.type === "b")).toBe(false);
    expect(devices).toContainEqual({ allow: true, type: "c", major: 1, minor: 3, access: "rwm" });
  });
});

describe("buildOciSpec from options", () => {
  it("turns -m, --cpus, --cpu-shares and --pids-limit into resources", () => {
    const resources = build([
      "-m",
      "256m",
      "--cpus",
      "0.5",
      "--cpu-shares",
      "512",
      "--pids-limit",
      "64",
      "sh",
    ]).linux!.resources!;
    expect(resources.memory).toEqual({ limit: 268435456, swap: 536870912 });
    expect(resources.cpu).toEqual({ shares: 512, quota: 50000, period: 100000 });
    expect(resources.pids).toEqual({ limit: 64 });
    expect(
      build(["-m", "256m", "--memory-swap", "256m", "sh"]).linux!.resources!.memory!.swap,
    ).toBe(268435456);
    expect(build(["sh"]).linux!.resources!.memory).toBeUndefined();
  });

  it("resolves -u in the rootfs and empties effective/permitted for non-root", () => {
    const spec = build(["-u", "app", "sh"]);
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [50] });
    expect(spec.process.env).toContain("HOME=/home/app");
    expect(spec.process.capabilities!.effective).toEqual([]);
    expect(spec.process.capabilities!.permitted).toEqual([]);
    expect(capabilityMask(spec.process.capabilities!.bounding!)).toBe(0xa80425fbn);
    expectInvalid(
      () => build(["-u", "ghost", "sh"]),
      "unable to find user ghost: no matching entry in the container's /etc/passwd",
    );
  });

  it("uses --hostname, -w, -e, -t and keeps a user's PATH and HOME", () => {
    const spec = build([
      "-t",
      "-h",
      "box",
      "-w",
      "/srv",
      "-e",
      "PATH=/opt/bin",
      "-e",
      "HOME=/h",
      "-e",
      "X=1",
      "sh",
    ]);
    expect(spec.hostname).toBe("box");
    expect(spec.process.cwd).toBe("/srv");
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.env).toEqual([
      "PATH=/opt/bin",
      "HOSTNAME=box",
      "TERM=xterm",
      "HOME=/h",
      "X=1",
    ]);
  });

  it("binds volumes and the engine's /etc files", () => {
    const spec = build(["-v", "/srv/data:/data:ro", "-v", "/srv/logs:/logs", "sh"], {
      etcFiles: {
        hosts: "/run/c/hosts",
        hostname: "/run/c/hostname",
        resolvConf: "/run/c/resolv.conf",
      },
    });
    const binds = spec.mounts!.filter((m) => m.type === "bind");
    expect(binds).toEqual([
      {
        destination: "/etc/resolv.conf",
        type: "bind",
        source: "/run/c/resolv.conf",
        options: ["rbind", "rprivate"],
      },
      {
        destination: "/etc/hostname",
        type: "bind",
        source: "/run/c/hostname",
        options: ["rbind", "rprivate"],
      },
      {
        destination: "/etc/hosts",
        type: "bind",
        source: "/run/c/hosts",
        options: ["rbind", "rprivate"],
      },
      {
        destination: "/data",
        type: "bind",
        source: "/srv/data",
        options: ["rbind", "rprivate", "ro"],
      },
      {
        destination: "/logs",
        type: "bind",
        source: "/srv/logs",
        options: ["rbind", "rprivate", "rw"],
      },
    ]);
  });

  it("shares the host network for --network host and joins a given namespace for bridge", () => {
    expect(build(["--network", "host", "sh"]).linux!.namespaces!.map((n) => n.type)).not.toContain(
      "network",
    );
    expect(
      build(["sh"], { networkNamespacePath: "/run/berth/netns/abc" }).linux!.namespaces,
    ).toContainEqual({
      type: "network",
      path: "/run/berth/netns/abc",
    });
  });

  it("applies --cap-add/--cap-drop to capabilities and to the seccomp rules", () => {
    const spec = build(["--cap-add", "SYS_ADMIN", "--cap-drop", "NET_RAW", "sh"]);
    expect(spec.process.capabilities!.bounding).toContain("CAP_SYS_ADMIN");
    expect(spec.process.capabilities!.bounding).not.toContain("CAP_NET_RAW");
    expect(spec.linux!.seccomp!.syscalls!.flatMap((s) => s.names)).toContain("mount");
  });

  it("leaves seccomp out for seccomp=unconfined and honours no-new-privileges=false", () => {
    const spec = build([
      "--security-opt",
      "seccomp=unconfined",
      "--security-opt",
      "no-new-privileges=false",
      "sh",
    ]);
    expect(spec.linux!.seccomp).toBeUndefined();
    expect(spec.process.noNewPrivileges).toBe(false);
  });

  it("passes cgroupsPath and annotations through", () => {
    const spec = build(["sh"], {
      cgroupsPath: "/berth/abc",
      annotations: { "org.berth.name": "web" },
    });
    expect(spec.linux!.cgroupsPath).toBe("/berth/abc");
    expect(spec.annotations).toEqual({ "org.berth.name": "web" });
  });
});
