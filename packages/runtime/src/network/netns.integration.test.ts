import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPinnedNetns, NetnsFiles } from "./netns.ts";
import { inNetns } from "./test-host-network.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("network namespace files (root)", () => {
  let runRoot: string;
  let files: NetnsFiles;

  beforeAll(() => {
    runRoot = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-netns-"));
    files = new NetnsFiles(runRoot);
  });

  afterAll(() => {
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
    fs.rmSync(runRoot, { recursive: true, force: true });
    expect(mounts).not.toContain(runRoot);
  });

  it("pins a new, empty namespace on a file and removes it again", async () => {
    const id = randomBytes(32).toString("hex");
    const started = performance.now();
    const file = await files.create(id);
    const ms = performance.now() - started;
    console.log(`netns create: ${ms.toFixed(1)} ms`);

    expect(file).toBe(path.join(runRoot, "netns", id));
    expect(isPinnedNetns(file)).toBe(true);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).toContain(file);
    // A different namespace from the host's: only lo, and down.
    expect(fs.statSync(file).ino).not.toBe(fs.statSync("/proc/self/ns/net").ino);
    const links = inNetns(file, ["ip", "-o", "link", "show"]).trim().split("\n");
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK>/);

    expect(await files.create(id)).toBe(file); // idempotent
    files.remove(id);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(file);
    files.remove(id); // idempotent
  });

  it("reuses an empty file left by a crash between create and mount", async () => {
    const id = randomBytes(32).toString("hex");
    const file = files.pathOf(id);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "");
    expect(isPinnedNetns(file)).toBe(false);
    await files.create(id);
    expect(isPinnedNetns(file)).toBe(true);
    files.remove(id);
    expect(fs.existsSync(file)).toBe(false);
  });
});
