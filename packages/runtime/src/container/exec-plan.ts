import { RuntimeError } from "../errors.ts";
import { DEFAULT_PATH_ENV } from "../spec/docker-defaults.ts";
import { mergeEnv } from "../spec/env.ts";
import type { NamespaceType, OciProcess, OciSpec } from "../spec/oci-schema.ts";
import type { ResolvedUser } from "../spec/user-resolver.ts";
import { CLONE, F_SETFD, O, TIOCSCTTY } from "../sys/constants.ts";
import { privilegeDropSteps, rlimitSteps, step } from "./privilege-drop.ts";
import type { PlanStep } from "./start-plan.ts";

/** Three phases, as for a start: the exec zygote resolves the command between them. */
export interface ExecPlan {
  /** Namespace files opened, namespaces joined, working directory, rlimits, umask. */
  setup: PlanStep[];
  /** Credentials, stdio, seccomp, then execve of the saved `exe`. */
  finish: PlanStep[];
  command: string;
  pathVar: string;
}

/** What `exec` changes of the container's own process (config.json's `process`). */
export interface ExecOverrides {
  args: string[];
  /** Appended to the container's env; a NAME given again replaces the container's value. */
  env?: readonly string[];
  cwd?: string;
  /** Already resolved against the container's /etc/passwd and /etc/group. */
  user?: ResolvedUser;
  tty?: boolean;
}

export interface ExecHost {
  /** Host PID of the container's init: its /proc/<pid>/ns/* files are joined. */
  initPid: number;
  /** Highest capability the host kernel knows (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
}

/**
 * The exec'd process: the container's `process` (capabilities, rlimits, no_new_privs, env, cwd,
 * user) with exec's overrides, as Docker builds an exec's process spec from the container's.
 * Another user than the container's gets Docker's rule for capabilities: the bounding set stays,
 * effective and permitted are that set for root and empty otherwise.
 */
export function execProcessFor(spec: OciSpec, o: ExecOverrides): OciProcess {
  const base = spec.process;
  if (o.args.length === 0 || o.args[0] === "") {
    throw new RuntimeError("INVALID_ARGUMENT", "exec needs a command");
  }
  if (o.cwd !== undefined && !o.cwd.startsWith("/")) {
    throw new RuntimeError("INVALID_ARGUMENT", `exec working directory ${o.cwd} is not absolute`);
  }
  for (const e of o.env ?? []) {
    if (!/^[^=]+=/.test(e)) throw new RuntimeError("INVALID_ARGUMENT", `env entry ${e} is not K=V`);
  }
  const env = mergeEnv(
    base.env ?? [],
    o.tty ? ["TERM=xterm"] : [],
    o.user ? [`HOME=${o.user.home}`] : [],
    o.env ?? [],
  );
  let { user, capabilities } = base;
  if (o.user) {
    user = {
      uid: o.user.uid,
      gid: o.user.gid,
      additionalGids: o.user.additionalGids,
      ...(base.user.umask !== undefined ? { umask: base.user.umask } : {}),
    };
    const bounding = base.capabilities?.bounding ?? [];
    const isRoot = o.user.uid === 0;
    capabilities = {
      bounding,
      effective: isRoot ? bounding : [],
      permitted: isRoot ? bounding : [],
      inheritable: [],
      ambient: [],
    };
  }
  return {
    ...base,
    terminal: o.tty ?? false,
    args: o.args,
    env,
    cwd: o.cwd ?? base.cwd,
    user,
    ...(capabilities ? { capabilities } : {}),
  };
}

/** Namespaces an exec joins, in runc's order, with their /proc/<pid>/ns/ names. */
const JOIN_ORDER: [NamespaceType, string, number][] = [
  ["ipc", "ipc", CLONE.NEWIPC],
  ["uts", "uts", CLONE.NEWUTS],
  ["network", "net", CLONE.NEWNET],
  ["mount", "mnt", CLONE.NEWNS],
  ["cgroup", "cgroup", CLONE.NEWCGROUP],
];

/**
 * The syscalls that move an exec zygote — a Node process the engine spawned with the container's
 * PID namespace as pid_for_children, already moved into the container's cgroup — into the
 * running container and exec `process` there. Every namespace file is opened before the first
 * setns (the host's /proc is gone once the mount namespace is joined); unshare(CLONE_FS) comes
 * first because setns(CLONE_NEWNS) refuses a thread sharing its fs_struct with Node's other
 * threads. Joining the mount namespace sets root and cwd to the container's root. Then the
 * credential sequence a start uses too (privilege-drop.ts), with fds 0-2 — the session's pipes or
 * pty slave, a controlling terminal with -t — losing FD_CLOEXEC. Pure, like buildStartPlan: run-plan.mjs executes it.
 */
export function buildExecPlan(spec: OciSpec, proc: OciProcess, host: ExecHost): ExecPlan {
  const wanted = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  if (wanted.has("user")) {
    throw new RuntimeError("INVALID_ARGUMENT", "exec into a user namespace is not supported");
  }
  const joins = JOIN_ORDER.filter(([type]) => wanted.has(type));
  const setup: PlanStep[] = [
    ...joins.map(
      ([type, file]): PlanStep => ({
        call: "open",
        args: [`/proc/${host.initPid}/ns/${file}`, O.RDONLY | O.CLOEXEC, 0],
        save: `ns-${type}`,
      }),
    ),
    ...(wanted.has("mount") ? [step("unshare", CLONE_FS)] : []),
    ...joins.flatMap(([type, , flag]) => [
      step("setns", { ref: `ns-${type}` }, flag),
      step("close", { ref: `ns-${type}` }),
    ]),
    step("chdir", proc.cwd),
    ...rlimitSteps(proc),
    step("umask", proc.user.umask ?? 0o022),
  ];

  const finish = privilegeDropSteps(spec, proc, {
    lastCap: host.lastCap,
    stdio: [
      // The zygote is a session leader (spawned detached); the pty slave becomes its terminal.
      ...(proc.terminal ? [step("ioctl", 0, TIOCSCTTY, 0)] : []),
      step("fcntl", 0, F_SETFD, 0),
      step("fcntl", 1, F_SETFD, 0),
      step("fcntl", 2, F_SETFD, 0),
    ],
    keepBelow: 3,
    execve: step("execve", { ref: "exe" }, proc.args, proc.env ?? []),
  });
  const pathVar = proc.env?.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH_ENV;
  return { setup, finish, command: proc.args[0]!, pathVar };
}

/** unshare(2)'s CLONE_FS: this thread gets its own root, cwd and umask. */
export const CLONE_FS = 0x00000200;
