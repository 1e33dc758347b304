import { describe, expect, it } from "vitest";
import { apps } from "./apps.ts";
import { matchesPattern } from "./columns.ts";
import {
  APP_NAME_PATTERN,
  ATTACHMENT_NAME_PATTERN,
  CONFIG_KEY_PATTERN,
  HOSTNAME_PATTERN,
} from "./patterns.ts";

describe("APP_NAME_PATTERN", () => {
  it.each(["ab", "my-app", "a1", "app-2", `a${"b".repeat(29)}`])("accepts %s", (name) => {
    expect(APP_NAME_PATTERN.test(name)).toBe(true);
  });
  it.each(["a", "My-App", "1app", "-app", "app-", "my_app", "my.app", "", `a${"b".repeat(30)}`])(
    "rejects %j",
    (name) => {
      expect(APP_NAME_PATTERN.test(name)).toBe(false);
    },
  );
});

describe("CONFIG_KEY_PATTERN", () => {
  it("accepts environment variable names only", () => {
    expect(["DATABASE_URL", "_X", "a1"].every((k) => CONFIG_KEY_PATTERN.test(k))).toBe(true);
    expect(["1X", "A-B", "A B", "", "Ä"].some((k) => CONFIG_KEY_PATTERN.test(k))).toBe(false);
  });
});

describe("HOSTNAME_PATTERN", () => {
  it("accepts lowercase DNS names and one leading wildcard", () => {
    for (const host of ["www.example.com", "*.example.com", "a-b.c.io", "x1.y2"]) {
      expect(HOSTNAME_PATTERN.test(host)).toBe(true);
    }
    for (const host of ["Example.com", "localhost", "a..b", "-a.com", "a.*.com", "a.com."]) {
      expect(HOSTNAME_PATTERN.test(host)).toBe(false);
    }
  });
});

describe("ATTACHMENT_NAME_PATTERN", () => {
  it("accepts config var prefixes", () => {
    expect(ATTACHMENT_NAME_PATTERN.test("DATABASE")).toBe(true);
    expect(ATTACHMENT_NAME_PATTERN.test("database")).toBe(false);
  });
});

describe("matchesPattern", () => {
  it("refuses a pattern with a quote, which would break out of the SQL literal", () => {
    expect(() => matchesPattern(apps.name, /it's/)).toThrow(/quote/);
  });
});
