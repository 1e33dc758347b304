import { readMigrationFiles } from "drizzle-orm/migrator";
import pg from "pg";
import { migrationsFolder } from "./migrate.ts";

/** How far a database is behind the committed migrations. */
export interface MigrationStatus {
  /** Committed migrations the database has. */
  applied: number;
  /** Committed migrations still to apply (runMigrations applies them). */
  pending: number;
  /** Committed migrations in total. */
  total: number;
}

/**
 * Compares the database at `url` with the committed migrations, by the same rule as drizzle's
 * migrator (a migration is applied when its timestamp is not after the newest recorded one).
 * Read-only; throws pg's error when the database cannot be reached.
 */
export async function readMigrationStatus(url: string): Promise<MigrationStatus> {
  const committed = readMigrationFiles({ migrationsFolder });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query<{ table: string | null }>(
      "SELECT to_regclass('drizzle.__drizzle_migrations')::text AS table",
    );
    let newest = Number.NEGATIVE_INFINITY;
    if (exists.rows[0]?.table != null) {
      const result = await client.query<{ newest: string | null }>(
        "SELECT max(created_at)::text AS newest FROM drizzle.__drizzle_migrations",
      );
      newest = Number(result.rows[0]?.newest ?? Number.NEGATIVE_INFINITY);
    }
    const applied = committed.filter((migration) => migration.folderMillis <= newest).length;
    return { applied, pending: committed.length - applied, total: committed.length };
  } finally {
    await client.end();
  }
}
