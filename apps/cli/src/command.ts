import type { CliEnv } from "./env.ts";
import type { Reporter } from "./reporter.ts";

/** What every command receives: its own arguments, the validated environment, and output. */
export interface CommandContext {
  args: string[];
  env: CliEnv;
  out: Reporter;
}

export interface Command {
  /** One line shown by `berth help`. */
  summary: string;
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}
