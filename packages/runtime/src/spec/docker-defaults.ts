import { existsSync, readFileSync } from "node:fs";
import type { OciMount, OciResources } from "./oci-schema.ts";

/** The PATH a container gets when it sets none (Docker's defaultUnixPathEnv). */
export const DEFAULT_PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The NOFILE limit containerd gives containers; capped by the host's hard limit (see nofileLimit). */
export const DEFAULT_NOFILE_LIMIT = 1_048_576;

/** Docker's /dev/shm size (--shm-size default). */
export const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

/** The kernel file systems every container gets, in the order Docker mounts them. */
export function dockerDefaultMounts(): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", "ro"],
    },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["ro", "nosuid", "noexec", "nodev"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: ["nosuid", "noexec", "nodev"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${DEFAULT_SHM_BYTES / 1024}k`],
    },
  ];
}

/**
 * Paths hidden from the container (moby's defaultLinuxMaskedPaths, 2025): kernel memory, keys,
 * timing side channels, firmware, power capping (GHSA-jq35-85cj-fj4p) and interrupt counts
 * (GHSA-6fw5-f8r9-fgfm). Add thermalThrottlePaths() of the host, as Docker does.
 */
export const DOCKER_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
];

/** Paths made read-only inside the container (moby's default ReadonlyPaths). */
export const DOCKER_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/**
 * The host's per-CPU thermal_throttle directories, which Docker also masks (they leak interrupt
 * counts, GHSA-6fw5-f8r9-fgfm). Reads `<sysRoot>/devices/system/cpu/possible`.
 */
export function thermalThrottlePaths(sysRoot = "/sys"): string[] {
  let possible: string;
  try {
    possible = readFileSync(`${sysRoot}/devices/system/cpu/possible`, "utf8").trim();
  } catch {
    return [];
  }
  const paths: string[] = [];
  for (const cpu of cpuList(possible)) {
    const rel = `/devices/system/cpu/cpu${cpu}/thermal_throttle`;
    if (existsSync(`${sysRoot}${rel}`)) paths.push(`/sys${rel}`);
  }
  return paths;
}

/** A kernel CPU list (`0-3,5`) as numbers. */
export function cpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.split(",").filter(Boolean)) {
    const [from, to = from] = part.split("-").map(Number) as [number, number?];
    for (let c = from; c <= to!; c++) cpus.push(c);
  }
  return cpus;
}

/**
 * The hard RLIMIT_NOFILE of this process, from /proc/self/limits text. Containers get
 * min(this, 1048576): raising a hard limit needs CAP_SYS_RESOURCE, which the engine may lack (on
 * the project's machines root's hard limit is 20000 without it).
 */
export function hostNofileHardLimit(procLimits?: string): number {
  const text = procLimits ?? readFileSync("/proc/self/limits", "utf8");
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m || m[2] === "unlimited") return DEFAULT_NOFILE_LIMIT;
  return Number(m[2]);
}

/** The NOFILE limit (soft = hard) containers get: Docker's 1048576, capped by the host's hard limit. */
export function nofileLimit(hostHard: number): number {
  return Math.min(hostHard, DEFAULT_NOFILE_LIMIT);
}

/**
 * The devices cgroup rules: deny everything, then allow the devices /dev holds (null, zero, full,
 * random, urandom, tty, console, ptmx, the pts ptys) and mknod of character devices only —
 * Docker also allows `b *:* m`; Berth leaves it out so that mknod of a block device fails.
 */
export function defaultDeviceRules(): NonNullable<OciResources["devices"]> {
  const char = (major: number, minor?: number, access = "rwm") => ({
    allow: true,
    type: "c" as const,
    major,
    ...(minor === undefined ? {} : { minor }),
    access,
  });
  return [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", access: "m" },
    char(1, 3),
    char(1, 5),
    char(1, 7),
    char(1, 8),
    char(1, 9),
    char(5, 0),
    char(5, 1),
    char(5, 2),
    char(136),
    { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
  ];
}
