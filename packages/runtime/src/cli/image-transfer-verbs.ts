import { parseArgs } from "node:util";
import type { ImageEvent } from "../daemon/image-api-schema.ts";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";
import { progressPrinter } from "./transfer-progress.ts";

/** Runs a transfer with progress on stderr; resolves with its final event. */
async function transfer(
  ctx: Parameters<ContainerVerb["run"]>[1],
  action: "pull" | "push" | "bootstrap",
  body: { ref: string } | { name: string },
  quiet: boolean,
): Promise<Extract<ImageEvent, { type: "done" }>> {
  const printer = progressPrinter(ctx.stderr, quiet);
  let done: Extract<ImageEvent, { type: "done" }> | undefined;
  try {
    await withEngine(ctx, (c) =>
      c.imageTransfer(action, body, (e) => {
        if (e.type === "done") done = e;
        else printer.event(e);
      }),
    );
  } finally {
    printer.end();
  }
  if (!done) throw new ContainerCliError(`${action} ended without a result`, 1);
  return done;
}

export const imagePullVerb: ContainerVerb = {
  summary: "download an image from a registry",
  usage: "berth image pull [-q] NAME[:TAG|@DIGEST]",
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { quiet: { type: "boolean", short: "q" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const ref = positionals[0] as string;
    const quiet = values.quiet ?? false;
    const done = await transfer(ctx, "pull", { ref }, quiet);
    if (quiet) ctx.stdout.write(`${done.ref}\n`);
    else ctx.stdout.write(`Digest: ${done.digest}\nStatus: Downloaded ${done.ref}\n`);
    return 0;
  },
};

export const imagePushVerb: ContainerVerb = {
  summary: "upload an image to a registry",
  usage: "berth image push NAME[:TAG]",
  async run(args, ctx) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const done = await transfer(ctx, "push", { ref: positionals[0] as string }, false);
    ctx.stdout.write(`${done.ref}: digest: ${done.digest}\n`);
    return 0;
  },
};

export const imageBootstrapVerb: ContainerVerb = {
  summary: "build a base image without a registry: busybox, or debian:<suite> (debootstrap)",
  usage: "berth image bootstrap busybox|debian[:SUITE]",
  async run(args, ctx) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const done = await transfer(ctx, "bootstrap", { name: positionals[0] as string }, false);
    ctx.stdout.write(`${done.ref} ${done.id}\n`);
    return 0;
  },
};
