import { runLoginCli, runLogoutCli } from "@berth/runtime/login-cli";
import type { Command } from "../command.ts";
import { engineDaemonSettings } from "../operator/engine-daemon.ts";

function context(env: Parameters<Command["run"]>[0]["env"]) {
  return {
    daemon: engineDaemonSettings(env),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    hostEnv: process.env,
    cwd: process.cwd(),
    handleSignals: false,
  };
}

export const loginCommand: Command = {
  summary: "log in to a container registry (for image pull and push)",
  usage: "berth login -u USER [-p PASSWORD | --password-stdin] REGISTRY",
  run: ({ args, env }) => runLoginCli(args, context(env)),
};

export const logoutCommand: Command = {
  summary: "forget a registry's stored credentials",
  usage: "berth logout REGISTRY",
  run: ({ args, env }) => runLogoutCli(args, context(env)),
};
