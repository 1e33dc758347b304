import { RuntimeError } from "../errors.ts";
import { type ContainerCliContext, ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { execVerb } from "./exec-verb.ts";
import { inspectVerb } from "./inspect-verb.ts";
import { killVerb, rmVerb, startVerb, stopVerb, waitVerb } from "./lifecycle-verbs.ts";
import { logsVerb } from "./logs-verb.ts";
import { psVerb } from "./ps-verb.ts";
import { createVerb, runVerb } from "./run-verb.ts";
import { statsVerb } from "./stats-verb.ts";

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
export async function runContainerCli(argv: string[], ctx: ContainerCliContext): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    const width = Math.max(...Object.keys(verbs).map((n) => n.length));
    const lines = Object.entries(verbs).map(([n, v]) => `  ${n.padEnd(width)}  ${v.summary}`);
    ctx.stdout.write(
      ["Usage: berth container <verb> [options]", "", "Verbs:", ...lines, ""].join("\n"),
    );
    return name ? 0 : 125;
  }
  const verb = verbs[name];
  try {
    if (!verb)
      throw new ContainerCliError(`unknown verb 'container ${name}'; see 'berth container help'`);
    if (args[0] === "--help" || args[0] === "-h") {
      ctx.stdout.write(`Usage: ${verb.usage}\n`);
      return 0;
    }
    return await verb.run(args, ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.stderr.write(`berth: ${message.split("\n")[0]}\n`);
    return exitCodeFor(error);
  }
}
