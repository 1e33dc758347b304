import { runContainerCli } from "@berth/runtime/cli";
import type { Command } from "../command.ts";
import { runtimeCliContext } from "../operator/runtime-cli-context.ts";

/** `berth container <verb>`: the runtime's own docker-like command line, over the engine daemon. */
export const containerCommand: Command = {
  summary: "manage containers: run, ps, logs, stop, rm, … (see 'berth container help')",
  usage: "berth container <verb> [options]",
  run: ({ args, env }) => runContainerCli(args, runtimeCliContext(env)),
};
