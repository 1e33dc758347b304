import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";

export const imageSaveVerb: ContainerVerb = {
  summary: "write images to a tar archive (Docker's format, or --format oci-archive)",
  usage: "berth image save [-o FILE] [--format docker-archive|oci-archive] IMAGE…",
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        output: { type: "string", short: "o" },
        format: { type: "string", default: "docker-archive" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length === 0) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const format = values.format;
    if (format !== "docker-archive" && format !== "oci-archive") {
      throw new ContainerCliError(
        `unknown --format ${format}: use docker-archive or oci-archive`,
        1,
      );
    }
    if (!values.output && (ctx.stdout as { isTTY?: boolean }).isTTY) {
      throw new ContainerCliError(
        "refusing to write an archive to a terminal: use -o FILE or redirect",
        1,
      );
    }
    // Written to a temporary file and renamed: an interrupted save leaves no half archive.
    const target = values.output ? path.resolve(ctx.cwd, values.output) : undefined;
    const tmp = target ? `${target}.tmp-${process.pid}` : undefined;
    try {
      await withEngine(ctx, (c) =>
        c.saveImages(
          positionals,
          format,
          tmp ? fs.createWriteStream(tmp, { mode: 0o644 }) : ctx.stdout,
        ),
      );
      if (tmp && target) fs.renameSync(tmp, target);
    } finally {
      if (tmp) fs.rmSync(tmp, { force: true });
    }
    return 0;
  },
};

export const imageLoadVerb: ContainerVerb = {
  summary: "load images from a tar archive (Docker's or an OCI layout)",
  usage: "berth image load [-i FILE] [-q]",
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      options: { input: { type: "string", short: "i" }, quiet: { type: "boolean", short: "q" } },
      strict: true,
    });
    const file = values.input ? path.resolve(ctx.cwd, values.input) : undefined;
    if (file && !fs.existsSync(file))
      throw new ContainerCliError(`cannot load ${values.input}: no such file`, 1);
    const r = await withEngine(ctx, (c) =>
      c.loadImages(file ? fs.createReadStream(file) : ctx.stdin),
    );
    if (!values.quiet) for (const l of r.loaded) ctx.stdout.write(`Loaded image: ${l.tag}\n`);
    return 0;
  },
};
