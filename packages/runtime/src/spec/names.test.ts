import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parseContainerName, parseHostname, parseNetworkMode, parseWorkdir } from "./names.ts";

describe("parseContainerName (--name)", () => {
  it("takes Docker's names", () => {
    for (const name of ["web", "web-1", "a.b_c", "0x", "A1"])
      expect(parseContainerName(name)).toBe(name);
  });

  it.each(["a", "-web", "_web", ".web", "web/1", "web 1", "wéb", ""])("rejects %j", (name) => {
    expectInvalid(
      () => parseContainerName(name),
      `invalid argument "${name}" for --name: names are two or more of [a-zA-Z0-9_.-], starting with a letter or digit`,
    );
  });
});

describe("parseHostname (-h, --hostname)", () => {
  it("takes RFC 1123 names up to 64 characters", () => {
    expect(parseHostname("web")).toBe("web");
    expect(parseHostname("web-1.example.com")).toBe("web-1.example.com");
    expect(parseHostname("a".repeat(63))).toBe("a".repeat(63));
  });

  it("rejects the rest", () => {
    const why = "expected letters, digits and hyphens in dot-separated labels (RFC 1123)";
    for (const name of ["-web", "web-", "we_b", "web..x", ""]) {
      expectInvalid(() => parseHostname(name), `invalid argument "${name}" for --hostname: ${why}`);
    }
    const long = `${"a".repeat(40)}.${"b".repeat(30)}`;
    expectInvalid(
      () => parseHostname(long),
      `invalid argument "${long}" for --hostname: a hostname has at most 64 characters`,
    );
  });
});

describe("parseWorkdir (-w, --workdir)", () => {
  it("takes absolute paths, normalised", () => {
    expect(parseWorkdir("/app")).toBe("/app");
    expect(parseWorkdir("/app//src/./")).toBe("/app/src");
    expect(parseWorkdir("/")).toBe("/");
  });

  it("rejects relative paths and ..", () => {
    expectInvalid(
      () => parseWorkdir("app"),
      'invalid argument "app" for --workdir: the working directory must be an absolute path',
    );
    expectInvalid(
      () => parseWorkdir("/app/.."),
      'invalid argument "/app/.." for --workdir: the working directory must not contain ".."',
    );
  });
});

describe("parseNetworkMode (--network)", () => {
  it("takes bridge, none and host", () => {
    expect(parseNetworkMode("bridge")).toBe("bridge");
    expect(parseNetworkMode("none")).toBe("none");
    expect(parseNetworkMode("host")).toBe("host");
    expectInvalid(
      () => parseNetworkMode("container:web"),
      'invalid argument "container:web" for --network: expected bridge, none or host',
    );
  });
});
