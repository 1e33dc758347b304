import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parseRestartPolicy } from "./restart-policy.ts";

describe("parseRestartPolicy (--restart)", () => {
  it.each([
    ["no", { name: "no" }],
    ["always", { name: "always" }],
    ["unless-stopped", { name: "unless-stopped" }],
    ["on-failure", { name: "on-failure" }],
    ["on-failure:5", { name: "on-failure", maxRetries: 5 }],
  ])("%s", (text, policy) => {
    expect(parseRestartPolicy(text)).toEqual(policy);
  });

  it.each([
    ["sometimes", "expected no, always, unless-stopped or on-failure[:N]"],
    ["on-failure:x", "the maximum retry count must be a non-negative integer"],
    ["on-failure:-1", "the maximum retry count must be a non-negative integer"],
    ["always:3", 'a maximum retry count cannot be used with "always"'],
    ["on-failure:1:2", "expected no, always, unless-stopped or on-failure[:N]"],
  ])("rejects %j", (text, why) => {
    expectInvalid(
      () => parseRestartPolicy(text),
      `invalid argument "${text}" for --restart: ${why}`,
    );
  });
});
