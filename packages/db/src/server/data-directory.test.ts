import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { halfInitialisedError, INIT_MARKER, inspectDataDir } from "./data-directory.ts";

describe("inspectDataDir", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-test-datadir-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("reports a missing directory", async () => {
    expect(await inspectDataDir(join(root, "nope"))).toEqual({ kind: "missing" });
  });

  it("reports an empty directory", async () => {
    await mkdir(join(root, "data"));
    expect(await inspectDataDir(join(root, "data"))).toEqual({ kind: "empty" });
  });

  it("reports a file, or a path under a file, as not a directory", async () => {
    await writeFile(join(root, "file"), "x");
    expect(await inspectDataDir(join(root, "file"))).toEqual({ kind: "not-a-directory" });
    expect(await inspectDataDir(join(root, "file", "data"))).toEqual({ kind: "not-a-directory" });
  });

  it("reports files without PG_VERSION as half-initialised (initdb interrupted)", async () => {
    await mkdir(join(root, "data", "base"), { recursive: true });
    await writeFile(join(root, "data", "postgresql.conf"), "");
    const state = await inspectDataDir(join(root, "data"));
    expect(state.kind).toBe("half-initialised");
    expect(state.kind === "half-initialised" && state.reason).toMatch(/no PG_VERSION/);
  });

  it("reports PG_VERSION without Berth's marker as half-initialised", async () => {
    await mkdir(join(root, "data"));
    await writeFile(join(root, "data", "PG_VERSION"), "15\n");
    const state = await inspectDataDir(join(root, "data"));
    expect(state.kind).toBe("half-initialised");
    expect(state.kind === "half-initialised" && state.reason).toContain(INIT_MARKER);
  });

  it("reports the marker without PG_VERSION as half-initialised", async () => {
    await mkdir(join(root, "data"));
    await writeFile(join(root, "data", INIT_MARKER), "{}");
    expect((await inspectDataDir(join(root, "data"))).kind).toBe("half-initialised");
  });

  it("reports PG_VERSION plus marker as initialised with the major version", async () => {
    await mkdir(join(root, "data"));
    await writeFile(join(root, "data", "PG_VERSION"), "15\n");
    await writeFile(join(root, "data", INIT_MARKER), "{}");
    expect(await inspectDataDir(join(root, "data"))).toEqual({ kind: "initialised", major: 15 });
  });

  it("rejects a garbled PG_VERSION", async () => {
    await mkdir(join(root, "data"));
    await writeFile(join(root, "data", "PG_VERSION"), "fifteen\n");
    await writeFile(join(root, "data", INIT_MARKER), "{}");
    expect((await inspectDataDir(join(root, "data"))).kind).toBe("half-initialised");
  });
});

describe("halfInitialisedError", () => {
  it("names the path and tells how to move it aside or remove it", () => {
    const error = halfInitialisedError("/var/lib/berth/postgres", "no PG_VERSION", "start");
    expect(error.code).toBe("HALF_INITIALISED");
    expect(error.context.path).toBe("/var/lib/berth/postgres");
    expect(error.message).toContain("/var/lib/berth/postgres");
    expect(error.message).toContain("mv /var/lib/berth/postgres /var/lib/berth/postgres.broken");
    expect(error.message).toContain("rm -rf /var/lib/berth/postgres");
  });
});
