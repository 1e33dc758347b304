import { describe, expect, it } from "vitest";
import { mergeEnv, parseEnvAssignment, parseEnvFile } from "./env.ts";
import { expectInvalid } from "./invalid-argument.test-support.ts";

const host = { HOME: "/root", EMPTY: "" };

describe("parseEnvAssignment (-e, --env)", () => {
  it("keeps NAME=value as given and takes a bare NAME from the host", () => {
    expect(parseEnvAssignment("A=1", host)).toBe("A=1");
    expect(parseEnvAssignment("A==b=c ", host)).toBe("A==b=c ");
    expect(parseEnvAssignment("A=", host)).toBe("A=");
    expect(parseEnvAssignment("HOME", host)).toBe("HOME=/root");
    expect(parseEnvAssignment("EMPTY", host)).toBe("EMPTY=");
    expect(parseEnvAssignment("UNSET", host)).toBeUndefined();
  });

  it("rejects an empty name or NUL", () => {
    expectInvalid(
      () => parseEnvAssignment("=x"),
      'invalid argument "=x" for --env: the variable name is empty',
    );
    expectInvalid(
      () => parseEnvAssignment(""),
      'invalid argument "" for --env: the variable name is empty',
    );
    expectInvalid(
      () => parseEnvAssignment("A=\0"),
      'invalid argument "A=\0" for --env: must not contain NUL',
    );
  });
});

describe("parseEnvFile (--env-file)", () => {
  it("reads Docker's format", () => {
    const content = [
      "\uFEFF# comment",
      "A=1",
      "   B=two words  ",
      "",
      'QUOTED="kept as is"',
      "HOME",
      "UNSET",
      "  # indented comment",
      "C=x=y\r",
      "",
    ].join("\n");
    expect(parseEnvFile(content, "app.env", host)).toEqual([
      "A=1",
      "B=two words  ",
      'QUOTED="kept as is"',
      "HOME=/root",
      "C=x=y",
    ]);
  });

  it("names the file and line of a bad entry", () => {
    expectInvalid(
      () => parseEnvFile("A=1\nBAD NAME=2\n", "app.env"),
      'env file app.env line 2 variable "BAD NAME" contains whitespace',
    );
    expectInvalid(
      () => parseEnvFile("=2\n", "app.env"),
      "env file app.env line 1 has no variable name",
    );
    expectInvalid(
      () => parseEnvFile(new Uint8Array([0x41, 0x3d, 0xff]), "bin.env"),
      "env file bin.env is not valid UTF-8",
    );
  });
});

describe("mergeEnv", () => {
  it("replaces earlier values in place and appends new names", () => {
    expect(mergeEnv(["PATH=/bin", "HOSTNAME=a"], ["X=1", "PATH=/usr/bin"], ["X=2"])).toEqual([
      "PATH=/usr/bin",
      "HOSTNAME=a",
      "X=2",
    ]);
  });
});
