import { parseArgs } from "node:util";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";

/** `berth container inspect ID|NAME…`: a JSON array of the containers' state, like docker. */
export const inspectVerb: ContainerVerb = {
  summary: "show containers' full state as JSON",
  usage: "berth container inspect ID|NAME [ID|NAME…]",
  async run(args, ctx) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length === 0) throw new ContainerCliError(`usage: ${this.usage}`);
    const states = await withEngine(ctx, (c) => Promise.all(positionals.map((r) => c.inspect(r))));
    ctx.stdout.write(`${JSON.stringify(states, null, 2)}\n`);
    return 0;
  },
};
