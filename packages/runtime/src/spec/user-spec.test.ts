import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parseUserSpec } from "./user-spec.ts";

describe("parseUserSpec (-u, --user)", () => {
  it.each([
    ["1000", { user: { id: 1000 } }],
    ["0:0", { user: { id: 0 }, group: { id: 0 } }],
    ["1000:100", { user: { id: 1000 }, group: { id: 100 } }],
    ["www-data", { user: { name: "www-data" } }],
    ["app:staff", { user: { name: "app" }, group: { name: "staff" } }],
    ["app:0", { user: { name: "app" }, group: { id: 0 } }],
    ["4294967294", { user: { id: 4294967294 } }],
  ])("%s", (text, spec) => {
    expect(parseUserSpec(text)).toEqual(spec);
  });

  it.each([
    ["", "the user is empty"],
    [":100", "the user is empty"],
    ["app:", "the group is empty"],
    ["a:b:c", "expected UID[:GID] or NAME[:GROUP]"],
    ["4294967295", "user ID 4294967295 is out of range"],
    ["bad name", '"bad name" is not a valid user name'],
    ["app:../x", '"../x" is not a valid group name'],
  ])("rejects %j", (text, why) => {
    expectInvalid(() => parseUserSpec(text), `invalid argument "${text}" for --user: ${why}`);
  });
});
