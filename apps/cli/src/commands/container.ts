import { runContainerCli } from "@berth/runtime/cli";
import type { Command } from "../command.ts";
import { engineDaemonSettings } from "../operator/engine-daemon.ts";

/** `berth container <verb>`: the runtime's own docker-like command line, over the engine daemon. */
export const containerCommand: Command = {
  summary: "manage containers: run, ps, logs, stop, rm, … (see 'berth container help')",
  usage: "berth container <verb> [options]",
  run: ({ args, env }) =>
    runContainerCli(args, {
      daemon: engineDaemonSettings(env),
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      hostEnv: process.env,
      cwd: process.cwd(),
      handleSignals: true,
    }),
};
