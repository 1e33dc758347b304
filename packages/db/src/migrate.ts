import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { describeCause, MigrationError } from "./errors.ts";

/** The committed SQL migrations (packages/db/drizzle), found from this file so any cwd works. */
export const migrationsFolder = fileURLToPath(new URL("../drizzle/", import.meta.url));

// Any constant shared by all Berth processes; it serialises concurrent migrators (web and agent
// starting together) because drizzle's migrator takes no lock of its own.
const MIGRATION_LOCK_KEY = 0x62657274; // "bert"

/** Applies every pending migration to the database at `url`; a no-op when up to date. */
export async function runMigrations(url: string): Promise<void> {
  // One dedicated connection: the advisory lock belongs to a session, and the migrator's
  // transaction must run on that same session.
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new MigrationError(`cannot connect to the database (${describeCause(error)})`, {
      action: "apply database migrations",
      hint: "Check that Postgres is running and that the connection string is right.",
      cause: error,
    });
  }
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migrate(drizzle({ client }), { migrationsFolder });
  } catch (error) {
    throw new MigrationError(`a migration failed (${describeCause(error)})`, {
      action: "apply database migrations",
      path: migrationsFolder,
      hint: "Nothing of the failed migration was applied (it runs in one transaction); fix the cause and run again.",
      cause: error,
    });
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end().catch(() => {});
  }
}
