import { RuntimeError } from "../errors.ts";
import type { NamespaceType, OciMount, OciSpec } from "../spec/oci-schema.ts";
import {
  CLONE,
  F_SETFD,
  MNT_DETACH,
  MS,
  makedev,
  O,
  S_IFCHR,
  TIOCSCTTY,
} from "../sys/constants.ts";
import type { SyscallName } from "../sys/syscalls.ts";
import { INIT_ARGV0, INIT_PATH, INIT_SCRIPT } from "./init-script.ts";
import { privilegeDropSteps, rlimitSteps, step } from "./privilege-drop.ts";

/** A JSON-serialisable argument: a plain value or a tag decoded by run-plan.mjs. */
export type PlanArg =
  | string
  | number
  | null
  | { ref: string }
  | { big: string }
  | { bytes: string }
  | PlanArg[];

export interface PlanStep {
  call: SyscallName | "maskPath" | "readonlyPath" | "mountInRoot" | "mkdirInRoot";
  args: PlanArg[];
  /** Save the call's result under this name for later {ref} arguments. */
  save?: string;
  /** errno names that mean "already done" (EEXIST for mkdir of a mountpoint). */
  ignore?: string[];
}

/** The three phases the zygote runs; it resolves the command between `setup` and `finish`. */
export interface StartPlan {
  /** Host-side opens, namespaces, the rootfs and pivot_root. */
  setup: PlanStep[];
  /** Credentials, fds, seccomp, then execve of the init (argv references the saved `exe`). */
  finish: PlanStep[];
  command: string;
  pathVar: string;
  /**
   * With process.terminal: the saved name of the pty master the zygote opened in the container's
   * devpts at the end of `setup`. The zygote reports its fd number on the control socket and waits
   * for the engine to take it (pidfd_getfd), as runc's init sends it over the console socket.
   */
  console?: string;
}

/**
 * What the zygote needs beyond the container's config.json: how its root (`root.path`) is made
 * and which host files become its stdio. Every path is absolute and exists (the engine made it).
 */
export interface StartHost {
  /**
   * The overlay mounted at root.path: read-only lower dirs (the image's layer snapshots, topmost
   * first, or the one --rootfs dir) under a per-container upper.
   */
  overlay: { lowerDirs: string[]; upperDir: string; workDir: string };
  /** Host files the zygote opens before leaving the host's mount namespace. */
  stdinPath: string;
  stdoutPath: string;
  stderrPath: string;
  exitStatusPath: string;
  /** Static busybox bind-mounted read-only at /dev/.berth-init: the container's PID 1. */
  initBinary: string;
  /** Highest capability the host kernel knows (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** OCI mount options that are mount(2) flags: [flag, cleared-by-this-option]. */
const FLAG_OPTIONS: Record<string, [number, boolean]> = {
  ro: [MS.RDONLY, false],
  rw: [MS.RDONLY, true],
  nosuid: [MS.NOSUID, false],
  suid: [MS.NOSUID, true],
  nodev: [MS.NODEV, false],
  dev: [MS.NODEV, true],
  noexec: [MS.NOEXEC, false],
  exec: [MS.NOEXEC, true],
  sync: [MS.SYNCHRONOUS, false],
  async: [MS.SYNCHRONOUS, true],
  dirsync: [MS.DIRSYNC, false],
  mand: [MS.MANDLOCK, false],
  nomand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, false],
  atime: [MS.NOATIME, true],
  nodiratime: [MS.NODIRATIME, false],
  diratime: [MS.NODIRATIME, true],
  relatime: [MS.RELATIME, false],
  norelatime: [MS.RELATIME, true],
  strictatime: [MS.STRICTATIME, false],
  nostrictatime: [MS.STRICTATIME, true],
  bind: [MS.BIND, false],
  rbind: [MS.BIND | MS.REC, false],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** An OCI mount's options as mount(2) flags, propagation flags and the fs-specific data string. */
export function parseMountOptions(options: readonly string[] = []): {
  flags: number;
  propagation: number;
  data: string | null;
} {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const option of options) {
    const flag = FLAG_OPTIONS[option];
    if (flag) flags = flag[1] ? flags & ~flag[0] : flags | flag[0];
    else if (PROPAGATION_OPTIONS[option] !== undefined) propagation |= PROPAGATION_OPTIONS[option];
    else data.push(option);
  }
  return { flags, propagation, data: data.length > 0 ? data.join(",") : null };
}

/**
 * One OCI mount as a `mountInRoot` step (run-plan.mjs): the destination is resolved inside the
 * container's root at mount time, so a symlink in the image or a previous run's upper layer cannot
 * send a mount outside it. Binds are made first and then remounted with their flags (the kernel
 * ignores most flags on the bind itself), as runc does.
 */
function mountStep(root: string, m: OciMount): PlanStep {
  const { flags, propagation, data } = parseMountOptions(m.options);
  const bind = (flags & MS.BIND) !== 0;
  const type = bind ? null : (m.type ?? null);
  const remount = bind ? flags & ~(MS.BIND | MS.REC) : 0;
  return step(
    "mountInRoot",
    root,
    m.destination,
    m.source ?? null,
    type,
    bind ? flags & (MS.BIND | MS.REC) : flags,
    bind ? null : data,
    remount,
    propagation,
  );
}

const CHAR_DEVICES: [string, number, number][] = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];

/** Docker's /dev contents once the /dev tmpfs is mounted: six character devices and links. */
function devSteps(root: string): PlanStep[] {
  const dev = `${root}/dev`;
  return [
    step("umask", 0),
    ...CHAR_DEVICES.map(([name, major, minor]) =>
      step("mknod", `${dev}/${name}`, S_IFCHR | 0o666, makedev(major, minor)),
    ),
    step("umask", 0o22),
    step("symlink", "pts/ptmx", `${dev}/ptmx`),
    step("symlink", "/proc/self/fd", `${dev}/fd`),
    step("symlink", "/proc/self/fd/0", `${dev}/stdin`),
    step("symlink", "/proc/self/fd/1", `${dev}/stdout`),
    step("symlink", "/proc/self/fd/2", `${dev}/stderr`),
    step("symlink", "/proc/kcore", `${dev}/core`),
  ];
}

const NAMESPACE_FLAGS: Partial<Record<NamespaceType, number>> = {
  mount: CLONE.NEWNS,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  cgroup: CLONE.NEWCGROUP,
  network: CLONE.NEWNET,
};

/**
 * The namespaces of linux.namespaces: new ones by one unshare, joined ones (a `path`) by setns —
 * their files are opened first, while the host's mount namespace still shows them. The zygote is
 * already PID 1 of a new PID namespace, so `pid` must be asked for without a path.
 */
function namespaceSteps(spec: OciSpec): PlanStep[] {
  const namespaces = spec.linux?.namespaces ?? [];
  const pid = namespaces.find((n) => n.type === "pid");
  if (!pid || pid.path) {
    throw unsupported("the zygote always runs in a new PID namespace; linux.namespaces needs pid");
  }
  let flags = 0;
  const opens: PlanStep[] = [];
  const joins: PlanStep[] = [];
  for (const ns of namespaces) {
    if (ns.type === "pid") continue;
    const flag = NAMESPACE_FLAGS[ns.type];
    if (flag === undefined) throw unsupported(`namespace ${ns.type} is not supported`);
    if (!ns.path) {
      flags |= flag;
      continue;
    }
    const name = `ns-${ns.type}`;
    opens.push({ call: "open", args: [ns.path, O.RDONLY | O.CLOEXEC, 0], save: name });
    joins.push(step("setns", { ref: name }, flag), step("close", { ref: name }));
  }
  if ((flags & CLONE.NEWNS) === 0) {
    throw unsupported("linux.namespaces needs a new mount namespace");
  }
  // A new network namespace (--network none) has only lo, and down: bring it up as Docker does.
  const loUp = flags & CLONE.NEWNET ? [step("interfaceUp", "lo")] : [];
  return [...opens, step("unshare", flags), ...joins, ...loUp];
}

/**
 * The exact syscall sequence that turns a waiting zygote (PID 1 of a fresh PID namespace, already
 * in the container's cgroup) into the container described by `spec` (its config.json). Pure, so it
 * is unit-tested with the recording fake; run-plan.mjs executes it in the zygote.
 */
export function buildStartPlan(spec: OciSpec, host: StartHost): StartPlan {
  const root = spec.root.path;
  const proc = spec.process;
  const mounts = spec.mounts ?? [];
  const { lowerDirs, upperDir, workDir } = host.overlay;
  const setup: PlanStep[] = [
    // Opened first: after pivot_root these host paths are out of reach. With a terminal the
    // stdio is a pty of the container's own devpts, opened at the end.
    ...(proc.terminal
      ? []
      : ([
          { call: "open", args: [host.stdinPath, O.RDONLY | O.CLOEXEC, 0], save: "stdin" },
          { call: "open", args: [host.stdoutPath, O.RDWR | O.CLOEXEC, 0], save: "stdout" },
          { call: "open", args: [host.stderrPath, O.RDWR | O.CLOEXEC, 0], save: "stderr" },
        ] satisfies PlanStep[])),
    {
      call: "open",
      args: [host.exitStatusPath, O.WRONLY | O.CREAT | O.TRUNC | O.CLOEXEC, 0o600],
      save: "status",
    },
    ...namespaceSteps(spec),
    // rslave: host unmounts still propagate in, nothing we mount propagates out.
    step("mount", null, "/", null, MS.REC | MS.SLAVE, null),
    step("mountOverlay", root, lowerDirs, upperDir, workDir),
  ];
  for (const m of mounts) {
    // A v1 host has one hierarchy per controller; /sys/fs/cgroup stays the empty read-only sysfs dir.
    if (m.type === "cgroup") continue;
    setup.push(mountStep(root, m));
    if (m.destination === "/dev" && m.type === "tmpfs") setup.push(...devSteps(root));
  }
  setup.push(
    step("mountInRoot", root, INIT_PATH, host.initBinary, null, MS.BIND, null, MS.RDONLY, 0),
    step("mkdirInRoot", root, proc.cwd),
    step("chdir", root),
    step("pivotRoot", ".", "."),
    step("umount2", ".", MNT_DETACH),
    step("chdir", "/"),
    ...(spec.linux?.maskedPaths ?? []).map((p) => step("maskPath", p)),
    ...(spec.linux?.readonlyPaths ?? []).map((p) => step("readonlyPath", p)),
    ...(spec.hostname !== undefined ? [step("sethostname", spec.hostname)] : []),
    ...rlimitSteps(proc),
    ...(proc.user.umask !== undefined ? [step("umask", proc.user.umask)] : []),
    step("chdir", proc.cwd),
  );
  if (proc.terminal) {
    // The container's devpts is mounted: /dev/pts/N of this instance is what the app's `tty` says.
    setup.push(
      { call: "ptmxOpen", args: ["/dev/pts/ptmx"], save: "console" },
      { call: "ptyPeer", args: [{ ref: "console" }], save: "tty" },
    );
  }

  // The init's fds: 0-2 the container's stdio, 3 its exit-status file. dup2 clears CLOEXEC on
  // the new fd (Node marks its own 0-2 close-on-exec); everything from 4 up closes at exec.
  const stdio: PlanStep[] = proc.terminal
    ? [
        step("dup2", { ref: "tty" }, 0),
        step("dup2", { ref: "tty" }, 1),
        step("dup2", { ref: "tty" }, 2),
        // The zygote is a session leader (spawned detached): the pty becomes its terminal.
        step("ioctl", 0, TIOCSCTTY, 0),
        step("dup2", { ref: "status" }, 3),
        // Without the host stdio opens the status file may already be fd 3, where dup2 is a no-op
        // that leaves its O_CLOEXEC: clear it explicitly.
        step("fcntl", 3, F_SETFD, 0),
      ]
    : [
        step("dup2", { ref: "stdin" }, 0),
        step("dup2", { ref: "stdout" }, 1),
        step("dup2", { ref: "stderr" }, 2),
        step("dup2", { ref: "status" }, 3),
      ];
  const finish = privilegeDropSteps(spec, proc, {
    lastCap: host.lastCap,
    stdio,
    keepBelow: 4,
    execve: step(
      "execve",
      INIT_PATH,
      [INIT_ARGV0, "-c", INIT_SCRIPT, "berth-init", { ref: "exe" }, ...proc.args.slice(1)],
      proc.env ?? [],
    ),
  });
  const pathVar = proc.env?.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  return {
    setup,
    finish,
    command: proc.args[0] ?? "",
    pathVar,
    ...(proc.terminal ? { console: "console" } : {}),
  };
}

function unsupported(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", `unsupported OCI spec: ${message}`);
}
