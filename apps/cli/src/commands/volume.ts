import { runVolumeCli } from "@berth/runtime/volume-cli";
import type { Command } from "../command.ts";
import { runtimeCliContext } from "../operator/runtime-cli-context.ts";

/** `berth volume <verb>`: volumes that outlive containers. */
export const volumeCommand: Command = {
  summary: "manage volumes: create, ls, inspect, rm, prune (see 'berth volume help')",
  usage: "berth volume <verb> [options]",
  run: ({ args, env }) => runVolumeCli(args, runtimeCliContext(env)),
};
