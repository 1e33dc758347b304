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

  it("refuses bad fields with one line naming the field", () => {
    expect(() => toRunRequest({ rootfs: "/r", command: [] })).toThrow(
      /^invalid run options: a rootfs container needs a command$/,
    );
    expect(() => toRunRequest({ command: ["sh"] })).toThrow(
      /^invalid run options: give either an image or a rootfs directory$/,
    );
    expect(() => toRunRequest({ image: "busybox", rootfs: "/r" })).toThrow(
      /either an image or a rootfs/,
    );
    expect(() => toRunRequest({ rootfs: "/r", command: ["x"], memory: -1 })).toThrow(/memory/);
  });
});
