import type { Command } from "../command.ts";
import { managedPostgres } from "../operator/database-service.ts";

/** `berth down`: stops what `berth up` started; all data stays. */
export const downCommand: Command = {
  summary: "stop what 'berth up' started (data is kept)",
  usage: "berth down",
  async run({ env, out }) {
    const postgres = managedPostgres(env);
    if (!postgres) {
      out.info("DATABASE_URL is set: Berth started no Postgres, so none is stopped");
      return 0;
    }
    const done = out.step("Stopping Postgres");
    const stopped = await postgres.stop();
    done(stopped.wasRunning ? `stopped (was pid ${stopped.pid})` : "was not running");
    return 0;
  },
};
