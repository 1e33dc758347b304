import { RuntimeError } from "../../errors.ts";
import {
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
} from "./bpf.ts";
import type { SeccompAction } from "./profile-schema.ts";

const EPERM = 1;

const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/** The SECCOMP_RET_* value of an action; `errno` defaults to EPERM, as the OCI spec says. */
export function actionValue(action: SeccompAction, errno?: number): number {
  const data = (errno ?? EPERM) & SECCOMP_RET_DATA;
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET_ERRNO | data) >>> 0;
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET_TRAP;
    case "SCMP_ACT_TRACE":
      return (SECCOMP_RET_TRACE | data) >>> 0;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET_LOG;
    case "SCMP_ACT_NOTIFY":
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        "seccomp action SCMP_ACT_NOTIFY needs a seccomp agent, which Berth does not run",
      );
  }
}

/** SECCOMP_FILTER_FLAG_* bits for the OCI `flags` names Berth supports. */
export function filterFlags(flags: readonly string[] | undefined): number {
  let bits = 0;
  for (const flag of flags ?? []) {
    const bit = FILTER_FLAGS[flag];
    if (bit === undefined) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `unsupported seccomp flag ${flag}: expected one of ${Object.keys(FILTER_FLAGS).join(", ")}`,
      );
    }
    bits |= bit;
  }
  return bits;
}
