import { RuntimeError } from "../errors.ts";
import { capabilityMask, capabilityNumber } from "../security/capabilities.ts";
import { compileSeccomp } from "../security/seccomp/compile-filter.ts";
import type { OciProcess, OciSpec } from "../spec/oci-schema.ts";
import { CLOSE_RANGE_CLOEXEC, PR, RLIMIT } from "../sys/constants.ts";
import type { PlanArg, PlanStep } from "./start-plan.ts";

export const step = (call: PlanStep["call"], ...args: PlanArg[]): PlanStep => ({ call, args });

/** An OCI rlimit type (RLIMIT_NOFILE) as setrlimit's resource number. */
export function rlimitNumber(type: string): number {
  const n = RLIMIT[type.replace(/^RLIMIT_/, "") as keyof typeof RLIMIT];
  if (n === undefined) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `unsupported OCI spec: rlimit ${type} is not supported`,
    );
  }
  return n;
}

/** setrlimit steps for the process's rlimits. */
export function rlimitSteps(proc: OciProcess): PlanStep[] {
  return (proc.rlimits ?? []).map((r) => step("setrlimit", rlimitNumber(r.type), r.soft, r.hard));
}

export interface PrivilegeDrop {
  /** Highest capability the host kernel knows (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
  /**
   * The process's fds 0-2 (and whatever else it keeps), after the credentials and before the
   * close_range: every fd from `keepBelow` up is marked close-on-exec.
   */
  stdio: PlanStep[];
  keepBelow: number;
  /** The execve itself (last, after the seccomp filter when no_new_privs is set). */
  execve: PlanStep;
}

/**
 * The one credential-and-exec sequence of a start and of an exec, as runc's finalizeNamespace
 * does it: seccomp first only without no_new_privs (the filter must go in while CAP_SYS_ADMIN is
 * still held), the bounding set, gids and uid with capabilities kept across the change, capset,
 * the ambient set, no_new_privs; then the process's stdio, every other fd close-on-exec, and the
 * filter last before execve, so that it need not allow any of the setup calls.
 */
export function privilegeDropSteps(
  spec: OciSpec,
  proc: OciProcess,
  { lastCap, stdio, keepBelow, execve }: PrivilegeDrop,
): PlanStep[] {
  const caps = proc.capabilities ?? {};
  const mask = (names: readonly string[] = []) => ({
    big: `0x${capabilityMask(names).toString(16)}`,
  });
  const bounding = capabilityMask(caps.bounding ?? []);
  const dropped: PlanStep[] = [];
  for (let cap = 0; cap <= lastCap; cap++) {
    if ((bounding & (1n << BigInt(cap))) === 0n) dropped.push(step("prctl", PR.CAPBSET_DROP, cap));
  }
  const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : null;
  const seccompSteps = seccomp
    ? [step("seccompInstall", { bytes: seccomp.bytes.toString("base64") }, seccomp.flags)]
    : [];
  return [
    ...(proc.noNewPrivileges ? [] : seccompSteps),
    ...dropped,
    // Keep permitted caps across the uid change; capset below sets the final sets.
    step("prctl", PR.SET_KEEPCAPS, 1),
    step("setgroups", proc.user.additionalGids ?? []),
    step("setresgid", proc.user.gid, proc.user.gid, proc.user.gid),
    step("setresuid", proc.user.uid, proc.user.uid, proc.user.uid),
    step("prctl", PR.SET_KEEPCAPS, 0),
    step("capset", mask(caps.effective), mask(caps.permitted), mask(caps.inheritable)),
    step("prctl", PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL),
    ...(caps.ambient ?? []).map((name) =>
      step("prctl", PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, capabilityNumber(name)!),
    ),
    ...(proc.noNewPrivileges ? [step("prctl", PR.SET_NO_NEW_PRIVS, 1)] : []),
    ...stdio,
    step("closeRange", keepBelow, 0xffffffff, CLOSE_RANGE_CLOEXEC),
    ...(proc.noNewPrivileges ? seccompSteps : []),
    execve,
  ];
}
