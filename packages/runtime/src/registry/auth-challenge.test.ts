import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "./auth-challenge.ts";

describe("parseWwwAuthenticate", () => {
  it("parses Docker Hub's Bearer challenge", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull",
        },
      },
    ]);
  });

  it("parses Basic with a realm, unquoted values, spaces and escapes", () => {
    expect(parseWwwAuthenticate('Basic realm="basic-realm"')).toEqual([
      { scheme: "basic", params: { realm: "basic-realm" } },
    ]);
    expect(parseWwwAuthenticate('bearer  realm = "a \\"b\\", c" , service=svc')).toEqual([
      { scheme: "bearer", params: { realm: 'a "b", c', service: "svc" } },
    ]);
  });

  it("keeps scopes with commas and several challenges apart", () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="r1", Bearer realm="http://127.0.0.1:1/token",scope="repository:a:pull,push"',
    );
    expect(challenges).toEqual([
      { scheme: "basic", params: { realm: "r1" } },
      {
        scheme: "bearer",
        params: { realm: "http://127.0.0.1:1/token", scope: "repository:a:pull,push" },
      },
    ]);
  });

  it("accepts a scheme without params and rubbish without looping", () => {
    expect(parseWwwAuthenticate("Negotiate")).toEqual([{ scheme: "negotiate", params: {} }]);
    expect(parseWwwAuthenticate("")).toEqual([]);
    expect(parseWwwAuthenticate('=,"x" ,,')).toBeInstanceOf(Array);
  });
});
