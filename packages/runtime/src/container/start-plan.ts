import {
  CLONE,
  CLOSE_RANGE_CLOEXEC,
  MNT_DETACH,
  MS,
  makedev,
  O,
  PR,
  S_IFCHR,
} from "../sys/constants.ts";
import type { SyscallName } from "../sys/syscalls.ts";
import { INIT_ARGV0, INIT_PATH, INIT_SCRIPT } from "./init-script.ts";
import type { StartSpec } from "./start-spec.ts";

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
  call: SyscallName | "maskPath" | "readonlyPath";
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
}

const step = (call: PlanStep["call"], ...args: PlanArg[]): PlanStep => ({ call, args });
const mkdirp = (path: string, mode = 0o755): PlanStep => ({
  call: "mkdir",
  args: [path, mode],
  ignore: ["EEXIST"],
});
/** Creates a file to bind-mount onto (open O_CREAT, then close). */
const touch = (path: string, name: string): PlanStep[] => [
  { call: "open", args: [path, O.WRONLY | O.CREAT | O.CLOEXEC, 0o644], save: name },
  step("close", { ref: name }),
];

/** Every directory from the root down to `path` inside `root` (mkdir -p). */
function mkdirAll(root: string, path: string): PlanStep[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== "." && p !== "..");
  return parts.map((_, i) => mkdirp(`${root}/${parts.slice(0, i + 1).join("/")}`));
}

const CHAR_DEVICES: [string, number, number][] = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];

/** Docker's /dev: tmpfs with the six character devices, pts (new instance), shm, mqueue. */
function devSteps(root: string): PlanStep[] {
  const dev = `${root}/dev`;
  const nosuid = MS.NOSUID | MS.NOEXEC | MS.NODEV;
  return [
    mkdirp(dev),
    step("mount", "tmpfs", dev, "tmpfs", MS.NOSUID | MS.STRICTATIME, "mode=755,size=65536k"),
    step("umask", 0),
    ...CHAR_DEVICES.map(([name, major, minor]) =>
      step("mknod", `${dev}/${name}`, S_IFCHR | 0o666, makedev(major, minor)),
    ),
    step("umask", 0o22),
    mkdirp(`${dev}/pts`),
    step(
      "mount",
      "devpts",
      `${dev}/pts`,
      "devpts",
      MS.NOSUID | MS.NOEXEC,
      "newinstance,ptmxmode=0666,mode=0620,gid=5",
    ),
    step("symlink", "pts/ptmx", `${dev}/ptmx`),
    mkdirp(`${dev}/shm`, 0o1777),
    step("mount", "shm", `${dev}/shm`, "tmpfs", nosuid, "mode=1777,size=65536k"),
    mkdirp(`${dev}/mqueue`),
    step("mount", "mqueue", `${dev}/mqueue`, "mqueue", nosuid, null),
    step("symlink", "/proc/self/fd", `${dev}/fd`),
    step("symlink", "/proc/self/fd/0", `${dev}/stdin`),
    step("symlink", "/proc/self/fd/1", `${dev}/stdout`),
    step("symlink", "/proc/self/fd/2", `${dev}/stderr`),
    step("symlink", "/proc/kcore", `${dev}/core`),
  ];
}

function bindSteps(
  root: string,
  source: string,
  destination: string,
  kind: "dir" | "file",
  readonly: boolean,
  tag: string,
): PlanStep[] {
  const target = `${root}${destination}`;
  const parent = destination.split("/").slice(0, -1).join("/");
  const steps =
    kind === "dir"
      ? mkdirAll(root, destination)
      : [...mkdirAll(root, parent), ...touch(target, tag)];
  steps.push(step("mount", source, target, null, MS.BIND | MS.REC, null));
  if (readonly) {
    const flags = MS.BIND | MS.REC | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV;
    steps.push(step("mount", source, target, null, flags, null));
  }
  return steps;
}

function namespaceSteps(spec: StartSpec): PlanStep[] {
  let flags = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP;
  if (spec.network.mode === "none") flags |= CLONE.NEWNET;
  const steps: PlanStep[] = [];
  if (spec.network.mode === "path") {
    // Opened before unshare(NEWNS): the netns file lives in the host's mount namespace.
    steps.push({ call: "open", args: [spec.network.path, O.RDONLY | O.CLOEXEC, 0], save: "netns" });
  }
  steps.push(step("unshare", flags));
  if (spec.network.mode === "path") {
    steps.push(step("setns", { ref: "netns" }, CLONE.NEWNET), step("close", { ref: "netns" }));
  }
  return steps;
}

/**
 * The exact syscall sequence that turns a waiting zygote (PID 1 of a fresh PID namespace, already
 * in the container's cgroup) into the container's init. Pure, so it is unit-tested with the
 * recording fake; run-plan.mjs executes it in the zygote.
 */
export function buildStartPlan(spec: StartSpec): StartPlan {
  const root = spec.mergedDir;
  const proc = spec.process;
  const setup: PlanStep[] = [
    // Opened first: after pivot_root these host paths are out of reach.
    { call: "open", args: [spec.stdinPath, O.RDONLY | O.CLOEXEC, 0], save: "stdin" },
    { call: "open", args: [spec.stdoutPath, O.RDWR | O.CLOEXEC, 0], save: "stdout" },
    { call: "open", args: [spec.stderrPath, O.RDWR | O.CLOEXEC, 0], save: "stderr" },
    {
      call: "open",
      args: [spec.exitStatusPath, O.WRONLY | O.CREAT | O.TRUNC | O.CLOEXEC, 0o600],
      save: "status",
    },
    ...namespaceSteps(spec),
    // rslave: host unmounts still propagate in, nothing we mount propagates out.
    step("mount", null, "/", null, MS.REC | MS.SLAVE, null),
    step(
      "mount",
      "overlay",
      root,
      "overlay",
      0,
      `lowerdir=${spec.lowerDir},upperdir=${spec.upperDir},workdir=${spec.workDir}`,
    ),
    mkdirp(`${root}/proc`),
    step("mount", "proc", `${root}/proc`, "proc", MS.NOSUID | MS.NOEXEC | MS.NODEV, null),
    mkdirp(`${root}/sys`),
    step(
      "mount",
      "sysfs",
      `${root}/sys`,
      "sysfs",
      MS.RDONLY | MS.NOSUID | MS.NOEXEC | MS.NODEV,
      null,
    ),
    ...devSteps(root),
    ...bindSteps(root, spec.initBinary, INIT_PATH, "file", true, "init"),
    mkdirp(`${root}/etc`),
    ...bindSteps(root, spec.etcFiles.hosts, "/etc/hosts", "file", false, "hosts"),
    ...bindSteps(root, spec.etcFiles.hostname, "/etc/hostname", "file", false, "hostname"),
    ...bindSteps(root, spec.etcFiles.resolvConf, "/etc/resolv.conf", "file", false, "resolv"),
    ...spec.mounts.flatMap((m, i) =>
      bindSteps(root, m.source, m.destination, m.kind, m.readonly, `bind${i}`),
    ),
    step("chdir", root),
    step("pivotRoot", ".", "."),
    step("umount2", ".", MNT_DETACH),
    step("chdir", "/"),
    ...spec.maskedPaths.map((p) => step("maskPath", p)),
    ...spec.readonlyPaths.map((p) => step("readonlyPath", p)),
    step("sethostname", spec.hostname),
    ...proc.rlimits.map((r) => step("setrlimit", r.resource, r.soft, r.hard)),
    step("chdir", proc.cwd),
  ];

  const caps = proc.capabilities;
  const dropped: PlanStep[] = [];
  for (let cap = 0; cap <= spec.lastCap; cap++) {
    if ((caps & (1n << BigInt(cap))) === 0n) dropped.push(step("prctl", PR.CAPBSET_DROP, cap));
  }
  const mask = { big: `0x${caps.toString(16)}` };
  const finish: PlanStep[] = [
    ...dropped,
    // Keep permitted caps across the uid change; capset below sets the final sets.
    step("prctl", PR.SET_KEEPCAPS, 1),
    step("setgroups", proc.additionalGids),
    step("setresgid", proc.gid, proc.gid, proc.gid),
    step("setresuid", proc.uid, proc.uid, proc.uid),
    step("prctl", PR.SET_KEEPCAPS, 0),
    step("capset", mask, mask, mask),
    step("prctl", PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL),
    ...(proc.noNewPrivileges ? [step("prctl", PR.SET_NO_NEW_PRIVS, 1)] : []),
    // The init's fds: 0-2 the container's stdio, 3 its exit-status file. dup2 clears CLOEXEC on
    // the new fd (Node marks its own 0-2 close-on-exec); everything from 4 up closes at exec.
    step("dup2", { ref: "stdin" }, 0),
    step("dup2", { ref: "stdout" }, 1),
    step("dup2", { ref: "stderr" }, 2),
    step("dup2", { ref: "status" }, 3),
    step("closeRange", 4, 0xffffffff, CLOSE_RANGE_CLOEXEC),
    // Last before exec, so that the filter need not allow any of the setup calls.
    ...(spec.seccomp
      ? [step("seccompInstall", { bytes: Buffer.from(spec.seccomp).toString("base64") })]
      : []),
    step(
      "execve",
      INIT_PATH,
      [INIT_ARGV0, "-c", INIT_SCRIPT, "berth-init", { ref: "exe" }, ...proc.args.slice(1)],
      proc.env,
    ),
  ];
  const pathVar =
    proc.env.find((e) => e.startsWith("PATH="))?.slice(5) ??
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return { setup, finish, command: proc.args[0] ?? "", pathVar };
}
