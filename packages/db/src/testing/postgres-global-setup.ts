/**
 * vitest globalSetup for integration tests: one throwaway Postgres for the whole run, whose URL
 * tests read with `inject("databaseUrl")`. Tests create their own scratch databases in it.
 */
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { startThrowawayPostgres } from "./throwaway-postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `berth` database of the run's throwaway server (unix socket, superuser). */
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const postgres = await startThrowawayPostgres();
  const { pid } = await postgres.server.status();
  // Last resort if the run dies without teardown (an uncaught error in vitest itself): an
  // immediate shutdown by pid, so no server outlives the run.
  const killOnExit = () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT");
      } catch {}
    }
  };
  process.once("exit", killOnExit);
  project.provide("databaseUrl", postgres.connectionString);
  return async () => {
    await postgres.destroy();
    process.off("exit", killOnExit);
  };
}
