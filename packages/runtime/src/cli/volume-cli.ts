import { parseArgs } from "node:util";
import type { ContainerCliContext, ContainerVerb } from "./cli-context.ts";
import { ContainerCliError } from "./cli-context.ts";
import { decimalBytes } from "./container-format.ts";
import { withEngine } from "./engine-connection.ts";
import { runVerbTable } from "./verb-table.ts";

function labelsOf(values: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of values ?? []) {
    const eq = l.indexOf("=");
    if (eq <= 0)
      throw new ContainerCliError(`invalid --label ${JSON.stringify(l)}: expected KEY=VALUE`, 1);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return labels;
}

const verbs: Record<string, ContainerVerb> = {
  create: {
    summary: "create a volume (a name is made up when none is given)",
    usage: "berth volume create [--label K=V]… [NAME]",
    async run(args, ctx) {
      const { values, positionals } = parseArgs({
        args,
        options: { label: { type: "string", multiple: true } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length > 1) throw new ContainerCliError(`usage: ${this.usage}`, 1);
      const v = await withEngine(ctx, (c) =>
        c.createVolume(positionals[0], labelsOf(values.label)),
      );
      ctx.stdout.write(`${v.Name}\n`);
      return 0;
    },
  },
  ls: {
    summary: "list volumes (--filter dangling=true: those no container uses)",
    usage: "berth volume ls [-q] [--filter dangling=true|false]",
    async run(args, ctx) {
      const { values } = parseArgs({
        args,
        options: { quiet: { type: "boolean", short: "q" }, filter: { type: "string", short: "f" } },
        strict: true,
      });
      const filter = values.filter;
      if (filter !== undefined && !/^dangling=(true|false)$/.test(filter)) {
        throw new ContainerCliError(
          `unsupported filter ${JSON.stringify(filter)}: use dangling=true or dangling=false`,
          1,
        );
      }
      const list = (await withEngine(ctx, (c) => c.volumes())).filter(
        (v) => filter === undefined || (v.UsedBy.length === 0) === (filter === "dangling=true"),
      );
      if (values.quiet) for (const v of list) ctx.stdout.write(`${v.Name}\n`);
      else
        ctx.stdout.write(
          ["DRIVER    VOLUME NAME", ...list.map((v) => `${v.Driver.padEnd(10)}${v.Name}`), ""].join(
            "\n",
          ),
        );
      return 0;
    },
  },
  inspect: {
    summary: "show volumes as JSON (name, mount point, creation time, labels)",
    usage: "berth volume inspect NAME…",
    async run(args, ctx) {
      if (args.length === 0) throw new ContainerCliError(`usage: ${this.usage}`, 1);
      const all = await withEngine(ctx, (c) => Promise.all(args.map((n) => c.inspectVolume(n))));
      ctx.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      return 0;
    },
  },
  rm: {
    summary: "remove volumes and their data (refused while a container uses one)",
    usage: "berth volume rm NAME…",
    async run(args, ctx) {
      if (args.length === 0) throw new ContainerCliError(`usage: ${this.usage}`, 1);
      let failed = 0;
      await withEngine(ctx, async (c) => {
        for (const name of args) {
          try {
            await c.removeVolume(name);
            ctx.stdout.write(`${name}\n`);
          } catch (e) {
            failed++;
            ctx.stderr.write(`berth: ${(e as Error).message}\n`);
          }
        }
      });
      return failed > 0 ? 1 : 0;
    },
  },
  prune: {
    summary: "remove anonymous volumes no container uses (-a: named ones too)",
    usage: "berth volume prune [-a]",
    async run(args, ctx) {
      const { values } = parseArgs({
        args,
        options: { all: { type: "boolean", short: "a" }, force: { type: "boolean", short: "f" } },
        strict: true,
      });
      const r = await withEngine(ctx, (c) => c.pruneVolumes(values.all ?? false));
      if (r.removed.length > 0) ctx.stdout.write(`Deleted Volumes:\n${r.removed.join("\n")}\n\n`);
      ctx.stdout.write(`Total reclaimed space: ${decimalBytes(r.bytesFreed)}\n`);
      return 0;
    },
  },
};

/** `berth volume <verb>`: failures exit 1, as docker volume's do. */
export function runVolumeCli(argv: string[], ctx: ContainerCliContext): Promise<number> {
  return runVerbTable("volume", verbs, argv, ctx, () => 1);
}
