import { type ParseArgsConfig, parseArgs } from "node:util";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";

function refs(args: string[], options: NonNullable<ParseArgsConfig["options"]>, usage: string) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (parsed.positionals.length === 0) throw new ContainerCliError(`usage: ${usage}`);
  return parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

/**
 * Applies `action` to each container in turn, printing what docker prints for it; a failure is
 * reported on its own line and the rest still run; the exit code is 1 if any failed (like docker).
 */
async function eachContainer(
  ctx: Parameters<ContainerVerb["run"]>[1],
  list: string[],
  action: (ref: string) => Promise<string>,
): Promise<number> {
  let failed = 0;
  for (const ref of list) {
    try {
      ctx.stdout.write(`${await action(ref)}\n`);
    } catch (e) {
      if (list.length === 1) throw e;
      failed++;
      ctx.stderr.write(`berth: ${(e as Error).message}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

export const startVerb: ContainerVerb = {
  summary: "start created or stopped containers",
  usage: "berth container start ID|NAME…",
  async run(args, ctx) {
    const { positionals } = refs(args, {}, this.usage);
    return withEngine(ctx, (c) =>
      eachContainer(ctx, positionals, async (r) => {
        await c.start(r);
        return r;
      }),
    );
  },
};

export const stopVerb: ContainerVerb = {
  summary: "stop containers (SIGTERM, SIGKILL after -t seconds, default 10)",
  usage: "berth container stop [-t SECS] ID|NAME…",
  async run(args, ctx) {
    const { values, positionals } = refs(
      args,
      { time: { type: "string", short: "t" } },
      this.usage,
    );
    const t = values.time as string | undefined;
    if (t !== undefined && !/^\d+$/.test(t)) {
      throw new ContainerCliError(`invalid value "${t}" for -t: expected whole seconds`);
    }
    return withEngine(ctx, (c) =>
      eachContainer(ctx, positionals, async (r) => {
        await c.stop(r, t === undefined ? undefined : Number(t));
        return r;
      }),
    );
  },
};

export const killVerb: ContainerVerb = {
  summary: "send a signal to containers (default SIGKILL)",
  usage: "berth container kill [-s SIG] ID|NAME…",
  async run(args, ctx) {
    const { values, positionals } = refs(
      args,
      { signal: { type: "string", short: "s" } },
      this.usage,
    );
    const signal = values.signal as string | undefined;
    return withEngine(ctx, (c) =>
      eachContainer(ctx, positionals, async (r) => {
        await c.kill(r, signal);
        return r;
      }),
    );
  },
};

export const rmVerb: ContainerVerb = {
  summary: "remove containers (-f: kill running ones first; -v: and their anonymous volumes)",
  usage: "berth container rm [-f] [-v] ID|NAME…",
  async run(args, ctx) {
    const { values, positionals } = refs(
      args,
      { force: { type: "boolean", short: "f" }, volumes: { type: "boolean", short: "v" } },
      this.usage,
    );
    return withEngine(ctx, (c) =>
      eachContainer(ctx, positionals, async (r) => {
        await c.remove(r, values.force === true, values.volumes === true);
        return r;
      }),
    );
  },
};

export const waitVerb: ContainerVerb = {
  summary: "wait for containers to exit and print their exit codes",
  usage: "berth container wait ID|NAME…",
  async run(args, ctx) {
    const { positionals } = refs(args, {}, this.usage);
    return withEngine(ctx, (c) =>
      eachContainer(ctx, positionals, async (r) => String((await c.wait(r)).exitCode)),
    );
  },
};
