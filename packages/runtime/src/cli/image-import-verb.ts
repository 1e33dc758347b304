import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { applyConfigChange } from "../image/config-change.ts";
import type { ContainerConfig } from "../image/oci-schemas.ts";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";

export const imageImportVerb: ContainerVerb = {
  summary: "make a one-layer image of a root filesystem (a directory or a tarball)",
  usage: "berth image import [-c 'CMD …']… DIR|TARBALL NAME[:TAG]",
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { change: { type: "string", short: "c", multiple: true } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 2) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const source = path.resolve(ctx.cwd, positionals[0] as string);
    if (!fs.existsSync(source)) {
      throw new ContainerCliError(`cannot import ${positionals[0]}: no such file or directory`, 1);
    }
    // Parsed here first, so a bad --change fails before anything is sent or stored.
    const config = (values.change ?? []).reduce<ContainerConfig>(applyConfigChange, {});
    const r = await withEngine(ctx, (c) =>
      c.importImage({ source, tag: positionals[1] as string, config }),
    );
    ctx.stdout.write(`${r.id}\n`);
    return 0;
  },
};
