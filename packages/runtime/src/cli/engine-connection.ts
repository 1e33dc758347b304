import fs from "node:fs";
import { startDaemon } from "../daemon/daemon-control.ts";
import { daemonPaths } from "../daemon/daemon-files.ts";
import { EngineClient, EngineUnavailableError } from "../daemon/engine-client.ts";
import type { ContainerCliContext } from "./cli-context.ts";

/**
 * Runs `action` against the engine daemon, starting the daemon first (and saying so on one line)
 * when its socket is absent or nobody answers on it.
 */
export async function withEngine<T>(
  ctx: ContainerCliContext,
  action: (client: EngineClient) => Promise<T>,
): Promise<T> {
  const { socket, logFile } = daemonPaths(ctx.daemon.runRoot, ctx.daemon.logDir);
  const client = new EngineClient(socket);
  const start = async () => {
    ctx.stderr.write(`berth: the engine daemon is not running; starting it (log: ${logFile})\n`);
    await startDaemon(ctx.daemon);
  };
  if (!fs.existsSync(socket)) {
    await start();
    return action(client);
  }
  try {
    return await action(client);
  } catch (e) {
    if (!(e instanceof EngineUnavailableError)) throw e;
    await start();
    return action(client);
  }
}
