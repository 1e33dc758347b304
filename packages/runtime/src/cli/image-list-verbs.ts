import { parseArgs } from "node:util";
import type { ImageSummary } from "../image/image-store.ts";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { decimalBytes, humanDuration } from "./container-format.ts";
import { withEngine } from "./engine-connection.ts";

/** `sha256:abcd…` → `abcd…` (12 hex), as Docker shows image IDs. */
export function shortImageId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** `team/app:v2` → [`team/app`, `v2`]; a registry port stays in the repository. */
function splitTag(tag: string): [string, string] {
  const colon = tag.lastIndexOf(":");
  return colon > tag.lastIndexOf("/")
    ? [tag.slice(0, colon), tag.slice(colon + 1)]
    : [tag, "latest"];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("   ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** The `image ls` table: one row per tag (untagged images as <none>), newest first. */
export function imageTable(
  images: ImageSummary[],
  options: { digests?: boolean },
  now = Date.now(),
): string {
  const rows = [...images]
    .sort((a, b) => Date.parse(b.created ?? "0") - Date.parse(a.created ?? "0"))
    .flatMap((img) => {
      const tags = img.tags.length > 0 ? img.tags : ["<none>:<none>"];
      return tags.map((t) => {
        const [repository, tag] = t === "<none>:<none>" ? ["<none>", "<none>"] : splitTag(t);
        const created = img.created ? `${humanDuration(now - Date.parse(img.created))} ago` : "N/A";
        return [
          repository,
          tag,
          ...(options.digests ? [img.manifestDigest] : []),
          shortImageId(img.id),
          created,
          decimalBytes(img.size),
        ];
      });
    });
  const header = [
    "REPOSITORY",
    "TAG",
    ...(options.digests ? ["DIGEST"] : []),
    "IMAGE ID",
    "CREATED",
    "SIZE",
  ];
  return table(header, rows);
}

export const imageLsVerb: ContainerVerb = {
  summary: "list images (-q: IDs only)",
  usage: "berth image ls [-q] [--digests]",
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      options: { quiet: { type: "boolean", short: "q" }, digests: { type: "boolean" } },
      strict: true,
    });
    const images = await withEngine(ctx, (c) => c.images());
    if (values.quiet) {
      for (const id of new Set(images.map((i) => shortImageId(i.id)))) ctx.stdout.write(`${id}\n`);
    } else {
      ctx.stdout.write(`${imageTable(images, { digests: values.digests ?? false })}\n`);
    }
    return 0;
  },
};

export const imageInspectVerb: ContainerVerb = {
  summary: "show images' manifest, config and layers as JSON",
  usage: "berth image inspect IMAGE [IMAGE…]",
  async run(args, ctx) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length === 0) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const all = await withEngine(ctx, (c) =>
      Promise.all(positionals.map((r) => c.inspectImage(r))),
    );
    ctx.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  },
};

export const imageHistoryVerb: ContainerVerb = {
  summary: "show how an image's layers were made",
  usage: "berth image history IMAGE",
  async run(args, ctx) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    const history = await withEngine(ctx, (c) => c.imageHistory(positionals[0] as string));
    const now = Date.now();
    const rows = [...history]
      .reverse()
      .map((h) => [
        h.created ? `${humanDuration(now - Date.parse(h.created))} ago` : "N/A",
        (h.created_by ?? "").replace(/\s+/g, " ").slice(0, 60),
        h.empty_layer ? "0B" : "",
        h.comment ?? "",
      ]);
    ctx.stdout.write(`${table(["CREATED", "CREATED BY", "SIZE", "COMMENT"], rows)}\n`);
    return 0;
  },
};

export const imageTagVerb: ContainerVerb = {
  summary: "give an image another name",
  usage: "berth image tag SOURCE TARGET",
  async run(args, ctx) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new ContainerCliError(`usage: ${this.usage}`, 1);
    await withEngine(ctx, (c) => c.tagImage(positionals[0] as string, positionals[1] as string));
    return 0;
  },
};

export const imageRmVerb: ContainerVerb = {
  summary: "remove images (refused while a container uses one, unless -f)",
  usage: "berth image rm [-f] IMAGE [IMAGE…]",
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
      for (const ref of positionals) {
        try {
          const r = await c.removeImage(ref, values.force ?? false);
          for (const t of r.untagged) ctx.stdout.write(`Untagged: ${t}\n`);
          if (r.bytesFreed > 0) ctx.stdout.write(`Deleted: ${decimalBytes(r.bytesFreed)} freed\n`);
        } catch (e) {
          failed++;
          ctx.stderr.write(`berth: ${(e as Error).message}\n`);
        }
      }
    });
    return failed > 0 ? 1 : 0;
  },
};

export const imagePruneVerb: ContainerVerb = {
  summary: "remove unused layers and blobs (-a: also every image no container uses)",
  usage: "berth image prune [-a]",
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      options: { all: { type: "boolean", short: "a" }, force: { type: "boolean", short: "f" } },
      strict: true,
    });
    const r = await withEngine(ctx, (c) => c.pruneImages(values.all ?? false));
    for (const t of r.untagged) ctx.stdout.write(`Untagged: ${t}\n`);
    ctx.stdout.write(
      `Deleted ${r.blobs} blobs and ${r.snapshots} layer snapshots\nTotal reclaimed space: ${decimalBytes(r.bytesFreed)}\n`,
    );
    return 0;
  },
};
