import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { freePort } from "@berth/runtime/free-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, pidAlive, tempBase } from "./berth-script.test-support.ts";

describe("./berth up, status, down", () => {
  let base: string;
  let port: number;
  let env: Record<string, string>;

  beforeAll(async () => {
    base = await tempBase("main");
    port = await freePort();
    env = { BERTH_PG_PORT: String(port) };
  });

  afterAll(async () => {
    await berth(base, ["down"], env);
    await rm(base, { recursive: true, force: true });
  });

  it("starts the managed Postgres with migrations applied, then reports it", async () => {
    const up = await berth(base, ["up"], env);
    expect(up.stderr).toContain("Starting Postgres");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("Berth is up.");
    expect(up.stderr).toMatch(/-----> Base image busybox\n[\s\S]*bootstrapped as busybox:latest/);

    const status = await berth(base, ["status", "--json"], env);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout);
    expect(json.healthy).toBe(true);
    expect(json.postgres.running).toBe(true);
    expect(json.postgres.port).toBe(port);
    expect(json.migrations.pending).toBe(0);
    expect(json.migrations.applied).toBeGreaterThan(0);
    expect(pidAlive(json.postgres.pid)).toBe(true);
    expect(json.engine.running).toBe(true);
    expect(pidAlive(json.engine.pid)).toBe(true);
  });

  it("is harmless and quick to run twice", async () => {
    expect((await berth(base, ["up"], env)).code).toBe(0);
    const before = JSON.parse((await berth(base, ["status", "--json"], env)).stdout);
    const again = await berth(base, ["up"], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already initialised");
    expect(again.stderr).toContain(`already running (pid ${before.postgres.pid})`);
    expect(again.stderr).toMatch(/-----> Base image busybox\n\s+present/);
  });

  it("down stops every process it started and keeps the data", async () => {
    expect((await berth(base, ["up"], env)).code).toBe(0);
    const { postgres, engine } = JSON.parse((await berth(base, ["status", "--json"], env)).stdout);
    const down = await berth(base, ["down"], env);
    expect(down.code).toBe(0);
    expect(pidAlive(postgres.pid)).toBe(false);
    expect(pidAlive(engine.pid)).toBe(false);
    const status = await berth(base, ["status", "--json"], env);
    expect(status.code).toBe(3);
    const json = JSON.parse(status.stdout);
    expect(json.postgres.running).toBe(false);
    expect(json.postgres.state).toBe("initialised");
    expect(json.engine.running).toBe(false);
    // Up again finds the same cluster: nothing was re-initialised.
    const up = await berth(base, ["up"], env);
    expect(up.stderr).toContain("already initialised");
    expect(up.code).toBe(0);
  });

  it("names the port and what to do when the port is taken", async () => {
    const other = await tempBase("port");
    const busyPort = await freePort();
    const blocker: Server = await new Promise((resolve) => {
      const s = createServer().listen(busyPort, "127.0.0.1", () => resolve(s));
    });
    try {
      const up = await berth(other, ["up"], { BERTH_PG_PORT: String(busyPort) });
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(String(busyPort));
      expect(up.stderr, up.stderr).toMatch(/already listens/i);
      expect(up.stderr).toContain("BERTH_PG_PORT");
    } finally {
      blocker.close();
      await berth(other, ["down"], { BERTH_PG_PORT: String(busyPort) });
      await rm(other, { recursive: true, force: true });
    }
  });

  it("names the data directory when it cannot be written", async () => {
    const other = await tempBase("ro");
    try {
      // A regular file where the data directory should be: nothing can be created under it.
      await writeFile(join(other, "data"), "not a directory");
      const up = await berth(other, ["up"], { BERTH_PG_PORT: String(await freePort()) });
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(join(other, "data"));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("refuses a half-initialised data directory instead of reusing it", async () => {
    const other = await tempBase("half");
    try {
      const dataDir = join(other, "data", "postgres");
      await mkdir(dataDir, { recursive: true });
      // What an interrupted initdb leaves: some files, no PG_VERSION, no Berth marker.
      await mkdir(join(dataDir, "base"));
      await writeFile(join(dataDir, "postgresql.conf"), "# partial\n");
      const up = await berth(other, ["up"], { BERTH_PG_PORT: String(await freePort()) });
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(dataDir);
      expect(up.stderr).toMatch(/half|interrupted|incomplete/i);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
