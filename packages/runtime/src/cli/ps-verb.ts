import { parseArgs } from "node:util";
import type { ContainerVerb } from "./cli-context.ts";
import { psTable, shortId } from "./container-format.ts";
import { withEngine } from "./engine-connection.ts";

/** `berth container ps [-a] [-q]`. */
export const psVerb: ContainerVerb = {
  summary: "list containers (-a: also stopped ones)",
  usage: "berth container ps [-a] [-q]",
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      options: { all: { type: "boolean", short: "a" }, quiet: { type: "boolean", short: "q" } },
      strict: true,
    });
    const list = await withEngine(ctx, (c) => c.list(values.all ?? false));
    if (values.quiet) {
      for (const s of list) ctx.stdout.write(`${shortId(s.id)}\n`);
    } else {
      ctx.stdout.write(`${psTable(list)}\n`);
    }
    return 0;
  },
};
