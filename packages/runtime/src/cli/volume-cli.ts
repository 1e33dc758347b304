import { parseArgs } from "node:util";
import { RuntimeError } from "../errors.ts";
import type { VolumeInfo } from "../volume/volume-store.ts";
import type { ContainerCliContext, ContainerVerb } from "./cli-context.ts";
import { ContainerCliError } from "./cli-context.ts";
import { decimalBytes } from "./container-format.ts";
import { withEngine } from "./engine-connection.ts";
import { runVerbTable } from "./verb-table.ts";

/** `--label K=V` (a bare `K` is an empty value, as docker takes it); an empty key is refused. */
export function parseLabelFlags(values: readonly string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of values ?? []) {
    const eq = l.indexOf("=");
    const key = eq < 0 ? l : l.slice(0, eq);
    if (key === "")
      throw new ContainerCliError(`invalid --label ${JSON.stringify(l)}: expected KEY=VALUE`, 1);
    labels[key] = eq < 0 ? "" : l.slice(eq + 1);
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
        c.createVolume(positionals[0], parseLabelFlags(values.label)),
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
      // Like docker: the volumes found are printed, each missing one is an error line (exit 1).
      const found: VolumeInfo[] = [];
      let failed = 0;
      await withEngine(ctx, async (c) => {
        for (const name of args) {
          try {
            found.push(await c.inspectVolume(name));
          } catch (e) {
            if (!(e instanceof RuntimeError)) throw e;
            failed++;
            ctx.stderr.write(`berth: ${e.message}\n`);
          }
        }
      });
      ctx.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
      return failed > 0 ? 1 : 0;
    },
  },
  rm: {
    summary: "remove volumes and their data (refused while a container uses one)",
    usage: "berth volume rm [-f] NAME…  (-f: a volume that does not exist is no error)",
    async run(args, ctx) {
      const { values, positionals } = parseArgs({
        args,
        options: { force: { type: "boolean", short: "f" } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length === 0) throw new ContainerCliError(`usage: ${this.usage}`, 1);
      let failed = 0;
      await withEngine(ctx, async (c) => {
        for (const name of positionals) {
          try {
            await c.removeVolume(name);
            ctx.stdout.write(`${name}\n`);
          } catch (e) {
            if (!(e instanceof RuntimeError)) throw e;
            if (values.force && e.code === "NOT_FOUND") continue;
            failed++;
            ctx.stderr.write(`berth: ${e.message}\n`);
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
