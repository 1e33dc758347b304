import { CliUsageError } from "./cli-error.ts";
import { commandTable } from "./command-table.ts";
import { readEnv } from "./env.ts";
import { describeError } from "./error-message.ts";
import { terminalReporter } from "./reporter.ts";

/** `berth <command> [args…]`: looks the command up in the table and runs it. */
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const out = terminalReporter();
  if (!name || name === "help" || name === "--help" || name === "-h") {
    out.print(helpText());
    return 0;
  }
  const command = commandTable[name];
  if (!command) throw new CliUsageError(`unknown command '${name}'; run 'berth help' for the list`);
  return command.run({ args, env: readEnv(), out });
}

/** Our own usage errors and node:util parseArgs' (unknown option, missing value). */
function isUsageError(error: unknown): boolean {
  if (error instanceof CliUsageError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

function helpText(): string {
  const width = Math.max(...Object.keys(commandTable).map((n) => n.length));
  const lines = Object.entries(commandTable).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return ["Usage: berth <command> [options]", "", "Commands:", ...lines].join("\n");
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`berth: ${describeError(error, process.env.BERTH_DEBUG === "1")}\n`);
    process.exitCode = isUsageError(error) ? 2 : 1;
  },
);
