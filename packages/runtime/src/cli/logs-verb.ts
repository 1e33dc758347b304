import { parseArgs } from "node:util";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";

/**
 * `--since`: an RFC 3339 time, Unix seconds, or a duration before now (`10s`, `5m`, `2h`, `1d`),
 * as docker accepts. Returns an ISO time.
 */
export function parseSince(value: string, now = Date.now()): string {
  const rel = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  if (rel) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2]!]!;
    return new Date(now - Number(rel[1]) * unit).toISOString();
  }
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000).toISOString();
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new ContainerCliError(
      `invalid value "${value}" for --since: expected a time (2026-01-02T15:04:05Z), Unix seconds or a duration such as 10m`,
    );
  }
  return new Date(t).toISOString();
}

/** `berth container logs [-f] [--tail N] [--since T] [-t] ID|NAME`. */
export const logsVerb: ContainerVerb = {
  summary: "show a container's output (-f follows until it exits)",
  usage: "berth container logs [-f] [--tail N] [--since T] [-t] ID|NAME",
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        follow: { type: "boolean", short: "f" },
        tail: { type: "string", short: "n" },
        since: { type: "string" },
        timestamps: { type: "boolean", short: "t" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new ContainerCliError(`usage: ${this.usage}`);
    let tail: number | undefined;
    if (values.tail !== undefined && values.tail !== "all") {
      if (!/^\d+$/.test(values.tail)) {
        throw new ContainerCliError(
          `invalid value "${values.tail}" for --tail: expected a number or all`,
        );
      }
      tail = Number(values.tail);
    }
    const since = values.since === undefined ? undefined : parseSince(values.since);
    const abort = new AbortController();
    const stop = () => abort.abort();
    if (ctx.handleSignals) process.once("SIGINT", stop);
    try {
      await withEngine(ctx, (c) =>
        c.logs(
          positionals[0]!,
          {
            follow: values.follow ?? false,
            ...(tail !== undefined ? { tail } : {}),
            ...(since !== undefined ? { since } : {}),
            signal: abort.signal,
          },
          (e) => {
            if (e.type !== "log") return;
            const out = e.stream === "stderr" ? ctx.stderr : ctx.stdout;
            out.write(values.timestamps ? `${e.time} ${e.log}` : e.log);
          },
        ),
      );
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    } finally {
      process.off("SIGINT", stop);
    }
    return 0;
  },
};
