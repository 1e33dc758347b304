import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { containerExit } from "./exit-status.ts";

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-exit-"));
  file = path.join(dir, "exit-status");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("containerExit", () => {
  it("takes the status the init wrote, naming the signal of 128+N", () => {
    fs.writeFileSync(file, "3\n");
    expect(containerExit(file, { code: 0, signal: null })).toEqual({ exitCode: 3, signal: null });
    fs.writeFileSync(file, "137\n");
    expect(containerExit(file, { code: null, signal: null })).toEqual({
      exitCode: 137,
      signal: "SIGKILL",
    });
  });

  it("falls back to the init's wait status, then to 255", () => {
    expect(containerExit(file, { code: null, signal: "SIGTERM" })).toEqual({
      exitCode: 143,
      signal: "SIGTERM",
    });
    expect(containerExit(file, { code: 4, signal: null })).toEqual({ exitCode: 4, signal: null });
    fs.writeFileSync(file, "garbage");
    expect(containerExit(file, { code: null, signal: null })).toEqual({
      exitCode: 255,
      signal: null,
    });
  });
});
