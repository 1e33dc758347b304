import { parseArgs } from "node:util";
import { applyConfigChange } from "../image/config-change.ts";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";

/** `berth container commit`: the container's changes as a new image. */
export const commitVerb: ContainerVerb = {
  summary: "make a new image of a container's changes",
  usage:
    "berth container commit [-c 'CMD …']… [-m MESSAGE] [-a AUTHOR] [--pause=false] CONTAINER REPO[:TAG]",
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        change: { type: "string", short: "c", multiple: true },
        message: { type: "string", short: "m" },
        author: { type: "string", short: "a" },
        pause: { type: "string", short: "p", default: "true" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 2) throw new ContainerCliError(`usage: ${this.usage}`);
    if (values.pause !== "true" && values.pause !== "false") {
      throw new ContainerCliError("--pause takes true or false");
    }
    const changes = values.change ?? [];
    // Checked here too, so that a typo fails before the daemon reads a single file.
    changes.reduce(applyConfigChange, {});
    const r = await withEngine(ctx, (c) =>
      c.commit(positionals[0] as string, {
        tag: positionals[1] as string,
        changes,
        pause: values.pause === "true",
        ...(values.message ? { comment: values.message } : {}),
        ...(values.author ? { author: values.author } : {}),
      }),
    );
    ctx.stdout.write(`${r.id}\n`);
    return 0;
  },
};
