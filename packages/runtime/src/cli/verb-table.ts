import { type ContainerCliContext, ContainerCliError, type ContainerVerb } from "./cli-context.ts";

/**
 * Runs `berth <command> <verb> [args…]` from a table of verbs: help, `--help` per verb, unknown
 * verbs, and every failure as one line on stderr with the exit code `exitCodeFor` gives.
 */
export async function runVerbTable(
  command: string,
  verbs: Record<string, ContainerVerb>,
  argv: string[],
  ctx: ContainerCliContext,
  exitCodeFor: (error: unknown) => number,
): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    const width = Math.max(...Object.keys(verbs).map((n) => n.length));
    const lines = Object.entries(verbs).map(([n, v]) => `  ${n.padEnd(width)}  ${v.summary}`);
    ctx.stdout.write(
      [`Usage: berth ${command} <verb> [options]`, "", "Verbs:", ...lines, ""].join("\n"),
    );
    return name ? 0 : exitCodeFor(new ContainerCliError("no verb"));
  }
  const verb = verbs[name];
  try {
    if (!verb) {
      throw new ContainerCliError(`unknown verb '${command} ${name}'; see 'berth ${command} help'`);
    }
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
