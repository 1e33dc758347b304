import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import type { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import { buildExecPlan, type ExecPlan, execProcessFor } from "../container/exec-plan.ts";
import { type PlanFailure, planFailureError } from "../container/plan-failure.ts";
import { DEFAULT_WINDOW, openPty, type PtyStream, type WindowSize } from "../container/pty.ts";
import { RuntimeError } from "../errors.ts";
import type { OciSpec } from "../spec/oci-schema.ts";
import { type ResolvedUser, resolveUser } from "../spec/user-resolver.ts";
import { parseUserSpec } from "../spec/user-spec.ts";
import { CLONE } from "../sys/constants.ts";
import type { Syscalls } from "../sys/syscalls.ts";

const ZYGOTE = fileURLToPath(new URL("../container/zygote.mjs", import.meta.url));

/** What `engine.exec` takes (docker exec's options). */
export interface ExecOptions {
  /** The command and its arguments; a bare name is looked up in the container's PATH. */
  args: string[];
  /** Added to the container's env (a NAME given again replaces the container's value). */
  env?: string[];
  /** Working directory inside the container; default the container's. */
  cwd?: string;
  /** `UID[:GID]` / `NAME[:GROUP]` as for `-u`, or numbers; default the container's user. */
  user?: string | { uid: number; gid?: number; additionalGids?: number[] };
  /** A pty (in the container's devpts) as the process's stdin, stdout and stderr. */
  tty?: boolean;
  /** Keep stdin open for writing (without it the process reads /dev/null, or a silent pty). */
  stdin?: boolean;
  /** The pty's initial size (tty only); default 80x24. */
  size?: WindowSize;
}

export interface ExecExit {
  exitCode: number;
  /** Set when the process was killed by a signal (exitCode is then 128 + its number). */
  signal: string | null;
}

/** A process started by `exec`; its streams are live until it exits. */
export interface ExecSession {
  /** Host PID of the exec'd process. */
  readonly pid: number;
  /** Its PID inside the container's PID namespace (what the container's `ps` shows). */
  readonly containerPid: number;
  /** Without tty: a pipe to its stdin (null unless `stdin`). With tty: the pty, when `stdin`. */
  readonly stdin: Writable | null;
  /** Without tty: its stdout. With tty: the pty (stdout and stderr together). */
  readonly stdout: Readable;
  /** Without tty: its stderr. With tty: null. */
  readonly stderr: Readable | null;
  /** With tty: the pty master (read: the terminal's output; write: its keyboard input). */
  readonly pty: PtyStream | null;
  /** Set when the command was not found: the process has said so on stderr and exits 127. */
  readonly error: string | null;
  /** Sets the pty's size (the process gets SIGWINCH); INVALID_STATE without tty. */
  resize(cols: number, rows: number): void;
  /** Resolves when the process has exited. */
  wait(): Promise<ExecExit>;
  /** Sends a signal to the process (default SIGKILL); a no-op once it has exited. */
  kill(signal?: NodeJS.Signals): void;
}

export interface ExecTarget {
  id: string;
  name: string;
  /** Host PID of the container's running init. */
  initPid: number;
  /** The container's config.json: the exec'd process starts from its `process`. */
  spec: OciSpec;
}

export interface ExecDeps {
  cgroups: CgroupDriver;
  sys: Syscalls;
  lastCap: number;
  nodePath?: string;
}

/** `-u` for an exec, resolved in the running container's /etc/passwd and /etc/group. */
function resolveExecUser(initPid: number, user: ExecOptions["user"]): ResolvedUser | undefined {
  if (user === undefined) return undefined;
  const root = `/proc/${initPid}/root`;
  if (typeof user === "string") return resolveUser(root, parseUserSpec(user));
  if (!Number.isInteger(user.uid) || user.uid < 0) {
    throw new RuntimeError("INVALID_ARGUMENT", `invalid exec user ${JSON.stringify(user)}`);
  }
  const resolved = resolveUser(root, {
    user: { id: user.uid },
    ...(user.gid !== undefined ? { group: { id: user.gid } } : {}),
  });
  return user.additionalGids ? { ...resolved, additionalGids: user.additionalGids } : resolved;
}

/** PID of `pid` in the innermost PID namespace it is in (the last NSpid field). */
function innermostPid(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    return ns ? Number(ns[ns.length - 1]) : pid;
  } catch {
    return -1;
  }
}

type Outcome =
  | { kind: "exec" }
  | { kind: "notFound"; message: string }
  | {
      kind: "error";
      error: PlanFailure;
    };

/** The exec zygote's control socket: "ready", then EOF (exec'd) or one failure line. */
function watchControl(ctl: Socket): { ready: Promise<void>; outcome: Promise<Outcome> } {
  let buffered = "";
  let sawReady = false;
  let message: Outcome | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {});
  const outcome = new Promise<Outcome>((resolve) => {
    ctl.on("data", (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!sawReady && line === "ready") {
          sawReady = true;
          resolveReady();
        } else if (line !== "") {
          const parsed = JSON.parse(line);
          message = parsed.notFound
            ? { kind: "notFound", message: parsed.notFound }
            : { kind: "error", error: parsed.error };
        }
      }
    });
    ctl.on("error", () => {});
    ctl.on("close", () => {
      if (!sawReady) rejectReady(new Error("the exec zygote died while booting"));
      resolve(message ?? { kind: "exec" });
    });
  });
  return { ready, outcome };
}

/**
 * Spawns the exec zygote with the container's PID namespace as pid_for_children of this (the
 * main) thread, then sets it back; setns, spawn's fork and setns run in one synchronous turn, as
 * the zygote pool's unshare does, so no other spawn of this process lands in the container.
 */
function spawnInPidNamespace(
  sys: Syscalls,
  initPid: number,
  stdio: (number | "pipe" | "ignore")[],
  nodePath: string,
): ChildProcess {
  const target = fs.openSync(`/proc/${initPid}/ns/pid`, "r");
  const host = fs.openSync("/proc/thread-self/ns/pid", "r");
  try {
    sys.setns(target, CLONE.NEWPID);
    try {
      return spawn(nodePath, ["--max-old-space-size=64", ZYGOTE, "exec"], {
        stdio,
        // A session of its own: the pty becomes its controlling terminal (TIOCSCTTY).
        detached: true,
        env: {},
      });
    } finally {
      sys.setns(host, CLONE.NEWPID);
    }
  } finally {
    fs.closeSync(target);
    fs.closeSync(host);
  }
}

function exitOf(code: number | null, signal: NodeJS.Signals | null): ExecExit {
  if (signal) return { exitCode: 128 + (osConstants.signals[signal] ?? 0), signal };
  return { exitCode: code ?? 255, signal: null };
}

function notRunning(target: ExecTarget): RuntimeError {
  return new RuntimeError("INVALID_STATE", `container ${target.name} is not running`, {
    id: target.id,
  });
}

/** A failure of the exec plan as one clear error. */
function planError(target: ExecTarget, plan: ExecPlan, o: Outcome & { kind: "error" }): Error {
  const e = o.error;
  const failed = (e.phase === "finish" ? plan.finish : plan.setup)[e.step] ?? null;
  if (failed?.call === "chdir" && e.errnoName === "ENOENT") {
    return new RuntimeError(
      "INVALID_ARGUMENT",
      `exec in container ${target.name}: working directory ${String(failed.args[0])} does not exist`,
      { id: target.id },
    );
  }
  const err = planFailureError(plan, e);
  err.message = `exec in container ${target.name} failed: ${err.message}`;
  return err;
}

/**
 * Runs a command inside a running container, as `docker exec` does: a fresh Node zygote is
 * spawned in the container's PID namespace (it cannot be pooled: the PID namespace of a process
 * is fixed when it is forked), moved into the container's cgroup once booted, then given an exec
 * plan that joins the container's other namespaces, takes the container's credentials,
 * capabilities, no_new_privs and seccomp filter, and execs the command. With `tty` the engine
 * allocates the pty in the container's own devpts instance through /proc/<init>/root and keeps
 * the master; the process gets the slave (TIOCGPTPEER) as fds 0-2 and as its controlling terminal.
 */
export async function execInContainer(
  target: ExecTarget,
  options: ExecOptions,
  deps: ExecDeps,
): Promise<ExecSession> {
  const user = resolveExecUser(target.initPid, options.user);
  const proc = execProcessFor(target.spec, {
    args: options.args,
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(user ? { user } : {}),
    tty: options.tty ?? false,
  });
  const plan = buildExecPlan(target.spec, proc, {
    initPid: target.initPid,
    lastCap: deps.lastCap,
  });

  const pty = options.tty
    ? openPty(`/proc/${target.initPid}/root/dev/pts/ptmx`, options.size ?? DEFAULT_WINDOW)
    : null;
  let child: ChildProcess;
  try {
    const stdio: (number | "pipe" | "ignore")[] = pty
      ? [pty.slave, pty.slave, pty.slave, "pipe"]
      : [options.stdin ? "pipe" : "ignore", "pipe", "pipe", "pipe"];
    child = spawnInPidNamespace(deps.sys, target.initPid, stdio, deps.nodePath ?? process.execPath);
  } catch (e) {
    pty?.stream.destroy();
    throw fs.existsSync(`/proc/${target.initPid}`) ? e : notRunning(target);
  } finally {
    // The process has its own copy; the master sees EIO once the last one closes.
    if (pty) fs.closeSync(pty.slave);
  }
  // Node discards a child's unread output when it exits: a fast command (or a missing one) could
  // finish before the caller attaches. Piping into our own streams keeps it until it is read.
  const stdout = pty ? pty.stream : child.stdout!.pipe(new PassThrough());
  const stderr = pty ? null : child.stderr!.pipe(new PassThrough());
  const exited = new Promise<ExecExit>((resolve) => {
    child.once("exit", (code, signal) => resolve(exitOf(code, signal)));
  });
  const spawnFailed = new Promise<never>((_, reject) => {
    child.once("error", (e) => reject(e));
  });
  spawnFailed.catch(() => {});
  const ctl = child.stdio[3] as Socket;
  const { ready, outcome } = watchControl(ctl);

  const abort = async () => {
    child.kill("SIGKILL");
    pty?.stream.destroy();
    await Promise.race([exited, spawnFailed.catch(() => {})]);
  };
  let result: Outcome;
  try {
    await Promise.race([ready, spawnFailed]);
    await deps.cgroups.addProcess(target.id, child.pid!);
    ctl.end(
      `${JSON.stringify({ setup: plan.setup, finish: plan.finish, command: plan.command, pathVar: plan.pathVar })}\n`,
    );
    result = await outcome;
  } catch (e) {
    await abort();
    throw fs.existsSync(`/proc/${target.initPid}`) ? e : notRunning(target);
  }
  if (result.kind === "error") {
    await abort();
    throw planError(target, plan, result);
  }

  const pid = child.pid!;
  const containerPid = result.kind === "exec" ? innermostPid(pid) : -1;
  return {
    pid,
    containerPid,
    stdin: pty ? (options.stdin ? pty.stream : null) : child.stdin,
    stdout,
    stderr,
    pty: pty?.stream ?? null,
    error: result.kind === "notFound" ? result.message : null,
    resize(cols, rows) {
      if (!pty) {
        throw new RuntimeError("INVALID_STATE", "resize needs an exec with a tty", {
          id: target.id,
        });
      }
      pty.stream.resize(cols, rows);
    },
    wait: () => exited,
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
