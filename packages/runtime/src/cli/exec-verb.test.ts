import { describe, expect, it } from "vitest";
import { parseExecArgs } from "./exec-verb.ts";

describe("parseExecArgs", () => {
  it("stops reading options at the container: the command keeps its own flags", () => {
    expect(
      parseExecArgs([
        "-it",
        "-u",
        "1000:1000",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "web",
        "sh",
        "-c",
        "ls -l",
      ]),
    ).toEqual({
      ref: "web",
      request: {
        args: ["sh", "-c", "ls -l"],
        env: ["A=1"],
        cwd: "/tmp",
        user: "1000:1000",
        tty: true,
        stdin: true,
      },
    });
    expect(
      parseExecArgs(["--user=nobody", "--env", "B", "abc123", "env"], { B: "2" }).request,
    ).toEqual({
      args: ["env"],
      env: ["B=2"],
      user: "nobody",
      tty: false,
      stdin: false,
    });
  });

  it("names what is wrong in one line", () => {
    expect(() => parseExecArgs(["web"])).toThrow(/usage: berth container exec/);
    expect(() => parseExecArgs(["-x", "web", "true"])).toThrow(/unknown shorthand flag: 'x'/);
    expect(() => parseExecArgs(["--bogus", "web", "true"])).toThrow(/unknown flag: --bogus/);
    expect(() => parseExecArgs(["-w", "tmp", "web", "true"])).toThrow(/must be absolute/);
    expect(() => parseExecArgs(["-u"])).toThrow(/flag needs an argument: -u/);
  });
});
