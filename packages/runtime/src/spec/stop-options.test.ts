import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parseStopSignal, parseStopTimeout } from "./stop-options.ts";

describe("parseStopSignal (--stop-signal)", () => {
  it.each([
    ["SIGTERM", 15],
    ["TERM", 15],
    ["sigint", 2],
    ["KILL", 9],
    ["SIGUSR1", 10],
    ["SIGQUIT", 3],
    ["9", 9],
    ["RTMIN", 34],
    ["SIGRTMIN+3", 37],
    ["RTMAX-1", 63],
  ])("%s → %d", (text, n) => {
    expect(parseStopSignal(text)).toBe(n);
  });

  it.each(["SIGFOO", "0", "65", "", "RTMIN+40", "-9"])("rejects %j", (text) => {
    expectInvalid(
      () => parseStopSignal(text),
      `invalid argument "${text}" for --stop-signal: expected a signal name such as SIGTERM or a number 1-64`,
    );
  });
});

describe("parseStopTimeout (--stop-timeout)", () => {
  it("takes whole seconds", () => {
    expect(parseStopTimeout("10")).toBe(10);
    expect(parseStopTimeout("0")).toBe(0);
    for (const text of ["-1", "1.5", "ten", ""]) {
      expectInvalid(
        () => parseStopTimeout(text),
        `invalid argument "${text}" for --stop-timeout: expected a whole number of seconds`,
      );
    }
  });
});
