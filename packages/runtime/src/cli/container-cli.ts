import { RuntimeError } from "../errors.ts";
import { type ContainerCliContext, ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { commitVerb } from "./commit-verb.ts";
import { execVerb } from "./exec-verb.ts";
import { inspectVerb } from "./inspect-verb.ts";
import { killVerb, rmVerb, startVerb, stopVerb, waitVerb } from "./lifecycle-verbs.ts";
import { logsVerb } from "./logs-verb.ts";
import { psVerb } from "./ps-verb.ts";
import { createVerb, runVerb } from "./run-verb.ts";
import { statsVerb } from "./stats-verb.ts";
import { runVerbTable } from "./verb-table.ts";

export type { ContainerCliContext } from "./cli-context.ts";

/** Every verb of `berth container`, by name. */
const verbs: Record<string, ContainerVerb> = {
  run: runVerb,
  create: createVerb,
  start: startVerb,
  ps: psVerb,
  inspect: inspectVerb,
  logs: logsVerb,
  stop: stopVerb,
  kill: killVerb,
  rm: rmVerb,
  wait: waitVerb,
  exec: execVerb,
  stats: statsVerb,
  commit: commitVerb,
};

/** Docker's exit codes for failures of the command itself rather than of the container. */
function exitCodeFor(error: unknown): number {
  if (error instanceof ContainerCliError) return error.exitCode;
  if (error instanceof RuntimeError) {
    if (error.code === "COMMAND_NOT_FOUND") return 127;
    if ((error.code as string) === "COMMAND_CANNOT_RUN") return 126;
  }
  return 125;
}

/**
 * `berth container <verb> [args…]`: a docker-like command line over the engine daemon. Resolves to
 * the exit code; every failure is one line on stderr.
 */
export function runContainerCli(argv: string[], ctx: ContainerCliContext): Promise<number> {
  return runVerbTable("container", verbs, argv, ctx, exitCodeFor);
}
