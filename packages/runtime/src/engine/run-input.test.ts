import { describe, expect, it } from "vitest";
import { parseRunOptions } from "../spec/run-options.ts";
import { toRunRequest } from "./run-input.ts";

describe("toRunRequest", () => {
  it("fills the command line's defaults (bridge network, Docker's security)", () => {
    expect(toRunRequest({ rootfs: "/r", command: ["true"] }).options).toEqual(
      parseRunOptions(["--rootfs", "/r", "true"]),
    );
  });

  it("takes parsed options as they are", () => {
    const parsed = parseRunOptions(["--rootfs", "/r", "-m", "32m", "-u", "app", "--rm", "sh"]);
    expect(toRunRequest(parsed).options).toEqual(parsed);
  });

  it("maps the first API shape (args, cwd, numeric ids, mounts, network none)", () => {
    const { options, user } = toRunRequest({
      rootfs: "/r",
      args: ["sh"],
      cwd: "/w",
      uid: 1000,
      gid: 100,
      additionalGids: [10],
      mounts: [{ source: "/h", destination: "/c", readonly: true }],
      memoryBytes: 64 << 20,
      cpus: 0.5,
      autoRemove: true,
    });
    expect(options).toMatchObject({
      command: ["sh"],
      workdir: "/w",
      network: "none",
      volumes: [{ source: "/h", destination: "/c", readonly: true }],
      memory: 64 << 20,
      nanoCpus: 500_000_000,
      rm: true,
    });
    expect(user).toEqual({ uid: 1000, gid: 100, additionalGids: [10], home: "/" });
  });

  it("refuses bad fields with one line naming the field", () => {
    expect(() => toRunRequest({ rootfs: "/r", command: [] })).toThrow(
      /^invalid run options: command: /,
    );
    expect(() => toRunRequest({ rootfs: "/r", command: ["x"], memory: -1 })).toThrow(/memory/);
  });
});
