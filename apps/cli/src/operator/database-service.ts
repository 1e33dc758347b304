import { join } from "node:path";
import { ManagedPostgres } from "@berth/db/managed-postgres";
import type { CliEnv } from "../env.ts";

/**
 * Berth's database: the managed Postgres under the data directory, or none when DATABASE_URL
 * points at a server the operator runs.
 */
export function managedPostgres(env: CliEnv): ManagedPostgres | undefined {
  if (env.DATABASE_URL) return undefined;
  return new ManagedPostgres({
    dataDir: join(env.BERTH_DATA_DIR, "postgres"),
    socketDir: join(env.BERTH_RUN_DIR, "postgres"),
    logFile: join(env.BERTH_LOG_DIR, "postgres.log"),
    port: env.BERTH_PG_PORT,
  });
}

/** The URL every Berth process connects with. */
export function databaseUrl(env: CliEnv, managed: ManagedPostgres | undefined): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (!managed) throw new Error("no DATABASE_URL and no managed Postgres");
  return managed.connectionString();
}

/** The URL with any password replaced, for printing. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, "$1:***@");
}
