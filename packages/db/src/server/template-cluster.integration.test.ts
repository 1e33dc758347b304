import { readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createThrowawayRoot } from "../testing/throwaway-postgres.ts";
import { INIT_MARKER } from "./data-directory.ts";
import { findFreePort } from "./port-check.ts";
import { cachedCluster, createTemplateCluster } from "./template-cluster.ts";

describe("template clusters", () => {
  let root: string;
  beforeEach(async () => {
    root = await createThrowawayRoot();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("builds once per cache, rebuilds when broken, and copies into a fresh data directory", async () => {
    const cacheDir = join(root, "cache");
    const first = await createTemplateCluster({ cacheDir, durable: false });
    expect(first.built).toBe(true);
    const second = await createTemplateCluster({ cacheDir, durable: false });
    expect(second).toEqual({ ...first, built: false });
    // No leftovers of the build-then-rename.
    expect(await readdir(cacheDir)).toEqual([first.dir.split("/").pop()]);

    await unlink(join(first.dataDir, INIT_MARKER));
    expect((await createTemplateCluster({ cacheDir, durable: false })).built).toBe(true);

    const server = await cachedCluster({
      cacheDir,
      dataDir: join(root, "copy", "data"),
      socketDir: join(root, "copy", "run"),
      logFile: join(root, "copy", "postgres.log"),
      port: await findFreePort(),
      durable: false,
    });
    try {
      expect(await server.status()).toMatchObject({ initialised: true, running: false });
      const copied = Date.now();
      await server.start();
      expect(Date.now() - copied).toBeLessThan(5000);
      expect(await server.status()).toMatchObject({ running: true });
    } finally {
      await server.stop();
    }
  });
});
