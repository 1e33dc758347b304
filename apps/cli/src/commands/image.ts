import { runImageCli } from "@berth/runtime/image-cli";
import type { Command } from "../command.ts";
import { runtimeCliContext } from "../operator/runtime-cli-context.ts";

/** `berth image <verb>`: the image store — ls, pull, push, import, bootstrap, … over the daemon. */
export const imageCommand: Command = {
  summary:
    "manage images: ls, pull, push, tag, rm, prune, import, bootstrap (see 'berth image help')",
  usage: "berth image <verb> [options]",
  run: async ({ args, env }) =>
    args[0] === "build"
      ? (await import("./image-build.ts")).runImageBuild(args.slice(1), env)
      : runImageCli(args, runtimeCliContext(env)),
};
