import type { SyscallError } from "../errors.ts";
import { toSyscallError } from "../sys/syscalls.ts";
import type { PlanStep } from "./start-plan.ts";

/** A failure as the zygote reports it: the syscall's, and where in the plan it happened. */
export interface PlanFailure {
  message: string;
  call: string;
  args: unknown[];
  errno: number;
  errnoName: string;
  /** Index of the failed step in its phase, -1 when the failure was outside the plan. */
  step: number;
  phase?: "setup" | "finish";
}

const str = (a: unknown) => String(a);

/** What a plan step is for, in the user's terms (container paths, not host paths). */
export function describeStep(step: PlanStep): string {
  const a = step.args;
  switch (step.call) {
    case "mkdirInRoot":
      return `creating the working directory ${str(a[1])}`;
    case "mountInRoot":
      return a[2] === null
        ? `mounting ${str(a[3])} on ${str(a[1])}`
        : `mounting ${str(a[2])} on ${str(a[1])}`;
    case "maskPath":
      return `masking ${str(a[0])}`;
    case "readonlyPath":
      return `making ${str(a[0])} read-only`;
    case "chdir":
      return `changing to the directory ${str(a[0])}`;
    case "open":
      return `opening ${str(a[0])}`;
    case "mountOverlay":
      return `mounting the root filesystem (an overlay of ${(a[1] as unknown[]).length} layers)`;
    case "mount":
      return `mounting ${str(a[0] ?? a[2])} on ${str(a[1])}`;
    case "mknod":
    case "symlink":
      return `populating /dev (${step.call} ${str(a.at(-1) ?? "")})`;
    case "unshare":
      return "creating the container's namespaces";
    case "setns":
      return "joining the container's namespaces";
    case "pivotRoot":
    case "umount2":
      return "switching to the container's root (pivot_root)";
    case "ptmxOpen":
    case "ptyPeer":
      return "opening the container's terminal (/dev/pts/ptmx)";
    case "setrlimit":
      return `setting rlimit ${str(a[0])}`;
    case "execve":
      return "executing the command";
    case "seccompInstall":
      return "installing the seccomp filter";
    default:
      return `${step.call} (dropping privileges)`;
  }
}

/**
 * A zygote's failure as one error naming the step (what it was for and its index), the call, the
 * path and the errno: `creating the working directory /x (setup step 31): mkdir … failed: ENOTDIR`.
 */
export function planFailureError(
  plan: { setup: readonly PlanStep[]; finish: readonly PlanStep[] },
  failure: PlanFailure,
): SyscallError {
  const err = toSyscallError(failure);
  const phase = failure.phase ?? "setup";
  const step = (phase === "finish" ? plan.finish : plan.setup)[failure.step];
  if (step) err.message = `${describeStep(step)} (${phase} step ${failure.step}): ${err.message}`;
  return err;
}
