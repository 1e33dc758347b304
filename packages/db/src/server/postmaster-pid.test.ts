import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { isPostmasterOf, parsePostmasterPid } from "./postmaster-pid.ts";

describe("parsePostmasterPid", () => {
  it("reads pid, port, socket directory and status", () => {
    const text = [
      "4242",
      "/var/lib/berth/postgres",
      "1763800000",
      "5433",
      "/run/berth/postgres",
      "127.0.0.1",
      "  5433001      7",
      "ready   ",
      "",
    ].join("\n");
    expect(parsePostmasterPid(text)).toEqual({
      pid: 4242,
      dataDir: "/var/lib/berth/postgres",
      port: 5433,
      socketDir: "/run/berth/postgres",
      listenAddress: "127.0.0.1",
      status: "ready",
    });
  });

  it("treats an empty or truncated file as absent", () => {
    expect(parsePostmasterPid("")).toBeUndefined();
    expect(parsePostmasterPid("4242\n")).toBeUndefined();
    expect(parsePostmasterPid("abc\n/x\n1\n5433\n")).toBeUndefined();
  });

  it("reports an empty status while the server is starting", () => {
    expect(parsePostmasterPid("7\n/d\n1\n5433\n/s\n*\n")?.status).toBe("");
  });
});

describe("isPostmasterOf", () => {
  it("matches a live process by its working directory", async () => {
    expect(await isPostmasterOf(process.pid, process.cwd())).toBe(true);
    expect(await isPostmasterOf(process.pid, tmpdir())).toBe(process.cwd() === tmpdir());
  });

  it("is false for a pid that does not exist", async () => {
    expect(await isPostmasterOf(2 ** 22 + 1, "/")).toBe(false);
  });
});
