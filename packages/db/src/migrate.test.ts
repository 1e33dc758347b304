import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrationsFolder } from "./migrate.ts";

describe("migrationsFolder", () => {
  it("is found from the module file, whatever the cwd", () => {
    expect(existsSync(join(migrationsFolder, "meta", "_journal.json"))).toBe(true);
  });

  it("holds one SQL file per journal entry, and nothing unjournaled", () => {
    const journal = JSON.parse(
      readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8"),
    ) as { entries: { tag: string }[] };
    const sqlFiles = readdirSync(migrationsFolder).filter((file) => file.endsWith(".sql"));
    expect(sqlFiles.sort()).toEqual(journal.entries.map((entry) => `${entry.tag}.sql`).sort());
  });
});
