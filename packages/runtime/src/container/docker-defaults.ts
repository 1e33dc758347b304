// Docker's defaults, which are the floor for every container (moby's oci/defaults.go).
// TODO(packages/runtime/src/security, src/spec): take these from the shared OCI spec builder once
// it lands, so there is one source of truth.

/** CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT
 * MKNOD AUDIT_WRITE SETFCAP — CapEff 00000000a80425fb in /proc/self/status. */
export const DOCKER_DEFAULT_CAPS = 0xa80425fbn;

export const DOCKER_MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const DOCKER_READONLY_PATHS = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker passes the daemon's limits; we pin sane ones (hard NOFILE here is 20000). */
export const DEFAULT_RLIMITS = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 20000 }] as const;
