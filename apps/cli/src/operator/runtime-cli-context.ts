import type { ContainerCliContext } from "@berth/runtime/cli";
import type { CliEnv } from "../env.ts";
import { engineDaemonSettings } from "./engine-daemon.ts";

/** What the runtime's command lines (container, image, volume) get from this process. */
export function runtimeCliContext(env: CliEnv): ContainerCliContext {
  return {
    daemon: engineDaemonSettings(env),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    hostEnv: process.env,
    cwd: process.cwd(),
    handleSignals: true,
  };
}
