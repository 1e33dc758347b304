import { parseArgs } from "node:util";
import type { Command } from "../command.ts";
import { printStatus, readStatus } from "../operator/berth-status.ts";

/** `berth status [--json]`: what runs; exit code 3 when something Berth needs is down. */
export const statusCommand: Command = {
  summary: "show what Berth runs on this host (--json for programs)",
  usage: "berth status [--json]",
  async run({ args, env, out }) {
    const { values } = parseArgs({ args, options: { json: { type: "boolean" } }, strict: true });
    const status = await readStatus(env);
    if (values.json) out.print(JSON.stringify(status, null, 2));
    else printStatus(status, out);
    return status.healthy ? 0 : 3;
  },
};
