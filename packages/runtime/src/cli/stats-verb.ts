import { parseArgs } from "node:util";
import type { ContainerStats } from "../engine/container-stats.ts";
import type { ContainerVerb } from "./cli-context.ts";
import { decimalBytes, shortId } from "./container-format.ts";
import { withEngine } from "./engine-connection.ts";

/** 1.5MiB, 256MiB, 2GiB: docker's binary-unit sizes. */
export function bytesText(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)}${units[u]}`;
}

export function statsTable(rows: ContainerStats[]): string {
  const header = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "PIDS"];
  const body = rows.map((s) => [
    shortId(s.id),
    s.name,
    `${s.cpuPercent.toFixed(2)}%`,
    `${bytesText(s.memoryBytes)} / ${bytesText(s.memoryLimitBytes)}`,
    `${s.memoryPercent.toFixed(2)}%`,
    `${decimalBytes(s.netRxBytes)} / ${decimalBytes(s.netTxBytes)}`,
    String(s.pids),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("   ")
      .trimEnd();
  return [line(header), ...body.map(line)].join("\n");
}

/** `berth container stats [--no-stream] [ID…]`: running containers, refreshed every second. */
export const statsVerb: ContainerVerb = {
  summary: "show running containers' CPU, memory, network and pids (--no-stream: once)",
  usage: "berth container stats [--no-stream] [ID|NAME…]",
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { "no-stream": { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
    let stop = false;
    const onInt = () => {
      stop = true;
    };
    if (ctx.handleSignals) process.once("SIGINT", onInt);
    try {
      return await withEngine(ctx, async (client) => {
        for (;;) {
          const refs =
            positionals.length > 0 ? positionals : (await client.list()).map((s) => s.id);
          const rows = await Promise.all(refs.map((r) => client.stats(r)));
          const table = statsTable(rows);
          // A streaming terminal redraws in place, as docker stats does.
          ctx.stdout.write(values["no-stream"] ? `${table}\n` : `\x1b[2J\x1b[H${table}\n`);
          if (values["no-stream"] || stop) return 0;
          await new Promise((r) => setTimeout(r, 1000));
          if (stop) return 0;
        }
      });
    } finally {
      process.off("SIGINT", onInt);
    }
  },
};
