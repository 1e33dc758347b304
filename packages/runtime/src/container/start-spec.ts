/**
 * What the zygote needs to turn itself into a container, resolved host-side: every host path is
 * absolute and exists (the engine created it), every value is validated. Built from the user's
 * options by the engine; TODO(packages/runtime/src/spec): build it from the OCI config.json model
 * (`buildOciSpec`) once that lands, so runc-style tools can drive the engine.
 */
export interface StartSpec {
  /** Read-only lower layer (the --rootfs directory). */
  lowerDir: string;
  /** Per-container overlay dirs under root/containers/<id>/. */
  upperDir: string;
  workDir: string;
  mergedDir: string;
  /** Host files the zygote opens before leaving the host's mount namespace. */
  stdinPath: string;
  stdoutPath: string;
  stderrPath: string;
  exitStatusPath: string;
  /** Files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  /** Static busybox bind-mounted read-only at /dev/.berth-init: the container's PID 1. */
  initBinary: string;
  hostname: string;
  /** none: a new empty netns; host: the host's; path: join a netns file made by the network code. */
  network: { mode: "none" } | { mode: "host" } | { mode: "path"; path: string };
  mounts: { source: string; destination: string; readonly: boolean; kind: "dir" | "file" }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  process: {
    args: string[];
    env: string[];
    cwd: string;
    uid: number;
    gid: number;
    additionalGids: number[];
    /** Bounding, effective, permitted and inheritable set (64-bit mask). */
    capabilities: bigint;
    rlimits: { resource: number; soft: number; hard: number }[];
    noNewPrivileges: boolean;
  };
  /** BPF program (struct sock_filter[]) or null for unconfined. */
  seccomp: Uint8Array | null;
  /** Highest capability the host kernel knows (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
}
