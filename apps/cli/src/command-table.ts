import type { Command } from "./command.ts";
import { downCommand } from "./commands/down.ts";
import { statusCommand } from "./commands/status.ts";
import { upCommand } from "./commands/up.ts";

/** Every verb of the `berth` command, by name. */
export const commandTable: Record<string, Command> = {
  up: upCommand,
  down: downCommand,
  status: statusCommand,
};
