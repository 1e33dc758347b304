import { runVolumeCli } from "@berth/runtime/volume-cli";
import type { Command } from "../command.ts";
import { engineDaemonSettings } from "../operator/engine-daemon.ts";

/** `berth volume <verb>`: volumes that outlive containers. */
export const volumeCommand: Command = {
  summary: "manage volumes: create, ls, inspect, rm, prune (see 'berth volume help')",
  usage: "berth volume <verb> [options]",
  run: ({ args, env }) =>
    runVolumeCli(args, {
      daemon: engineDaemonSettings(env),
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      hostEnv: process.env,
      cwd: process.cwd(),
      handleSignals: true,
    }),
};
