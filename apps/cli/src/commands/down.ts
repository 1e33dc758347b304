import { stopDaemon } from "@berth/runtime/daemon";
import type { Command } from "../command.ts";
import { managedPostgres } from "../operator/database-service.ts";
import { engineDaemonSettings } from "../operator/engine-daemon.ts";

/** `berth down`: stops what `berth up` started; all data stays, and containers keep running. */
export const downCommand: Command = {
  summary: "stop what 'berth up' started (data is kept; containers keep running)",
  usage: "berth down",
  async run({ env, out }) {
    let done = out.step("Stopping the engine daemon (containers keep running)");
    const engine = await stopDaemon(engineDaemonSettings(env));
    done(engine.wasRunning ? `stopped (was pid ${engine.pid})` : "was not running");
    const postgres = managedPostgres(env);
    if (!postgres) {
      out.info("DATABASE_URL is set: Berth started no Postgres, so none is stopped");
      return 0;
    }
    done = out.step("Stopping Postgres");
    const stopped = await postgres.stop();
    done(stopped.wasRunning ? `stopped (was pid ${stopped.pid})` : "was not running");
    return 0;
  },
};
