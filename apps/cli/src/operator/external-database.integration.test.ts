import { readdir, readFile, rm } from "node:fs/promises";
import { startThrowawayPostgres, type ThrowawayPostgres } from "@berth/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, tempBase } from "./berth-script.test-support.ts";

/** Postgres server processes whose data directory lies under `dir`. */
async function postgresUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("postgres") && cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

describe("./berth with DATABASE_URL", () => {
  let external: ThrowawayPostgres;
  let base: string;

  beforeAll(async () => {
    external = await startThrowawayPostgres();
    base = await tempBase("extdb");
  });

  afterAll(async () => {
    await berth(base, ["down"], { DATABASE_URL: external.connectionString });
    await external.destroy();
    await rm(base, { recursive: true, force: true });
  });

  it("uses that server, migrates it and starts no Postgres of its own", async () => {
    const env = { DATABASE_URL: external.connectionString };
    const up = await berth(base, ["up"], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain("Using the Postgres at DATABASE_URL");
    expect(up.stderr).not.toContain("Starting Postgres");
    expect(await postgresUnder(base)).toEqual([]);

    const status = JSON.parse((await berth(base, ["status", "--json"], env)).stdout);
    expect(status.postgres.managed).toBe(false);
    expect(status.postgres.running).toBe(true);
    expect(status.migrations.pending).toBe(0);
    expect(status.migrations.applied).toBeGreaterThan(0);

    const down = await berth(base, ["down"], env);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain("started no Postgres");
    // The operator's server is untouched by `down`.
    expect((await external.server.status()).running).toBe(true);
  });

  it("rejects a DATABASE_URL that is not a postgres URL, naming the variable", async () => {
    const up = await berth(base, ["status"], { DATABASE_URL: "mysql://nope" });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain("DATABASE_URL");
  });
});
