import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { StreamEvent } from "../daemon/api-schema.ts";
import type { EngineClient } from "../daemon/engine-client.ts";
import { parseRunOptions, type RunOptions } from "../spec/run-options.ts";
import { type ContainerCliContext, ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";
import { pipeSession } from "./session-io.ts";

const RUN_USAGE =
  "berth container run [-d] [--rm] [--name N] [-e K=V] [--env-file F] [-w DIR] [-u UID[:GID]] " +
  "[--hostname H] [-m 256m] [--cpus 0.5] [--pids-limit N] [-v HOST:CTR[:ro]] [-p HOST:CTR] " +
  "[--network bridge|none|host] [--entrypoint CMD] [-it] (IMAGE [CMD [ARG…]] | --rootfs DIR CMD [ARG…])";

/** Parses run/create arguments and resolves host paths against the caller's directory. */
function parse(args: string[], ctx: ContainerCliContext): RunOptions {
  const options = parseRunOptions(args, {
    hostEnv: ctx.hostEnv,
    hostCpus: os.availableParallelism(),
    readFile: (p) => fs.readFileSync(path.resolve(ctx.cwd, p)),
  });
  if (options.rootfs === undefined) return options; // an image, resolved by the daemon
  const rootfs = path.resolve(ctx.cwd, options.rootfs);
  if (!fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ContainerCliError(`--rootfs ${options.rootfs}: no such directory`);
  }
  return { ...options, rootfs };
}

/** `berth container run`: foreground streams output and exits with the container's code. */
export const runVerb: ContainerVerb = {
  summary: "create and start a container",
  usage: RUN_USAGE,
  async run(args, ctx) {
    const options = parse(args, ctx);
    return withEngine(ctx, async (client) => {
      // -dit: the daemon holds the terminal (its output goes to the logs); there is no attach verb.
      if ((options.interactive || options.tty) && !options.detach) {
        // The terminal's size (stdout's, when it is one) goes with the request: the app may read
        // it before the session's first resize arrives.
        const { columns: cols, rows } = ctx.stdout;
        const sized =
          options.tty && cols && rows ? { ...options, consoleSize: { cols, rows } } : options;
        const session = await client.openSession("/v1/run-session", sized);
        return pipeSession(session, ctx, { stdin: options.interactive, tty: options.tty });
      }
      if (options.detach) {
        const s = await client.create({ options });
        ctx.stdout.write(`${s.id}\n`);
        return 0;
      }
      return runAttached(client, options, ctx);
    });
  },
};

/** `berth container create`: like run, without starting. */
export const createVerb: ContainerVerb = {
  summary: "create a container without starting it",
  usage: RUN_USAGE.replace(" run [-d]", " create"),
  async run(args, ctx) {
    const options = parse(args, ctx);
    return withEngine(ctx, async (client) => {
      const s = await client.create({ options, start: false });
      ctx.stdout.write(`${s.id}\n`);
      return 0;
    });
  },
};

async function runAttached(
  client: EngineClient,
  options: RunOptions,
  ctx: ContainerCliContext,
): Promise<number> {
  let id: string | undefined;
  let exit: Extract<StreamEvent, { type: "exit" }> | undefined;
  // Like docker's --sig-proxy: an interrupt goes to the container, whose exit ends the command.
  const proxy = (signal: NodeJS.Signals) => {
    if (id) void client.kill(id, signal).catch(() => {});
  };
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => {
    const h = () => proxy(sig);
    if (ctx.handleSignals) process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    await client.runAttached({ options }, (e) => {
      if (e.type === "created") id = e.id;
      else if (e.type === "log") (e.stream === "stderr" ? ctx.stderr : ctx.stdout).write(e.log);
      else if (e.type === "exit") exit = e;
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  if (!exit)
    throw new ContainerCliError("the engine closed the stream before the container exited");
  return exit.exitCode;
}
