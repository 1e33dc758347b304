import pg from "pg";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { runMigrations } from "./migrate.ts";
import { readMigrationStatus } from "./migration-status.ts";
import { createScratchDatabase } from "./testing/throwaway-postgres.ts";

const EXPECTED_TABLES = [
  "addon_attachments",
  "addons",
  "api_tokens",
  "apps",
  "builds",
  "collaborators",
  "config_vars",
  "domains",
  "dynos",
  "events",
  "formation",
  "releases",
  "sessions",
  "ssh_keys",
  "users",
];

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const publicTables = (url: string) =>
  query<{ table_name: string }>(
    url,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  ).then((rows) => rows.map((row) => row.table_name));

describe("runMigrations", () => {
  let url: string;
  beforeAll(async () => {
    url = await createScratchDatabase(inject("databaseUrl"));
  });

  it("creates every table in an empty database", async () => {
    expect(await publicTables(url)).toEqual([]);
    const before = await readMigrationStatus(url);
    expect(before.applied).toBe(0);
    expect(before.pending).toBe(before.total);
    expect(before.total).toBeGreaterThan(0);

    await runMigrations(url);

    expect(await publicTables(url)).toEqual(EXPECTED_TABLES);
    expect(await readMigrationStatus(url)).toEqual({
      applied: before.total,
      pending: 0,
      total: before.total,
    });
  });

  it("is a no-op when the database is up to date", async () => {
    await runMigrations(url);
    const applied = await query<{ n: string }>(
      url,
      "SELECT count(*) AS n FROM drizzle.__drizzle_migrations",
    );
    expect(Number(applied[0]?.n)).toBe(1);
  });

  it("lets concurrent migrators of one database both succeed (advisory lock)", async () => {
    const fresh = await createScratchDatabase(inject("databaseUrl"));
    await Promise.all([runMigrations(fresh), runMigrations(fresh), runMigrations(fresh)]);
    expect(await publicTables(fresh)).toEqual(EXPECTED_TABLES);
  });

  it("fails with a MigrationError naming what to check when it cannot connect", async () => {
    const error = await runMigrations("postgresql://postgres@/nowhere?host=/nonexistent&port=1")
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "MigrationError", code: "MIGRATION_FAILED" });
    expect((error as Error).message).toContain("cannot connect");
  });
});
