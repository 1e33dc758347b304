import type { Syscalls } from "../sys/syscalls.ts";
import type { PlanStep } from "./start-plan.ts";

/** Runs the steps against `sys` in order; returns the values saved by steps with `save`. */
export declare function runPlan(
  sys: Syscalls,
  steps: readonly PlanStep[],
  saved?: Record<string, unknown>,
): Record<string, unknown>;
