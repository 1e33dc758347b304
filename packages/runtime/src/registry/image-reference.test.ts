import { describe, expect, it } from "vitest";
import {
  formatImageReference,
  isLoopbackHost,
  manifestReference,
  parseImageReference,
} from "./image-reference.ts";
import { RegistryError } from "./registry-error.ts";

const HEX = "a".repeat(64);

describe("parseImageReference", () => {
  it("adds docker.io, library/ and :latest to a bare name", () => {
    expect(parseImageReference("busybox")).toEqual({
      registry: "docker.io",
      host: "registry-1.docker.io",
      repository: "library/busybox",
      tag: "latest",
    });
  });

  it("keeps a namespaced Docker Hub repository and its tag", () => {
    const ref = parseImageReference("library/busybox:1.36");
    expect(ref.repository).toBe("library/busybox");
    expect(ref.tag).toBe("1.36");
    expect(parseImageReference("bitnami/redis").repository).toBe("bitnami/redis");
    expect(parseImageReference("index.docker.io/nginx").registry).toBe("docker.io");
  });

  it("recognises a registry with a port and a multi-component path", () => {
    const ref = parseImageReference("127.0.0.1:5000/app/web:tag");
    expect(ref).toEqual({
      registry: "127.0.0.1:5000",
      host: "127.0.0.1:5000",
      repository: "app/web",
      tag: "tag",
    });
    expect(parseImageReference("localhost/app").registry).toBe("localhost");
    expect(parseImageReference("ghcr.io/o/r:v1").host).toBe("ghcr.io");
  });

  it("parses digests, with or without a tag", () => {
    const ref = parseImageReference(`127.0.0.1:5000/a@sha256:${HEX}`);
    expect(ref.digest).toBe(`sha256:${HEX}`);
    expect(ref.tag).toBeUndefined();
    expect(manifestReference(ref)).toBe(`sha256:${HEX}`);
    const both = parseImageReference(`busybox:1.36@sha256:${HEX}`);
    expect(both.tag).toBe("1.36");
    expect(manifestReference(both)).toBe(`sha256:${HEX}`);
    expect(formatImageReference(both)).toBe(`docker.io/library/busybox:1.36@sha256:${HEX}`);
  });

  it.each([
    ["", "empty"],
    ["Busybox", "lowercase"],
    ["busybox:", "tag"],
    ["busybox:-x", "tag"],
    ["busybox@sha256:abc", "digest"],
    ["app//web", "path components"],
    ["a b", "whitespace"],
    [":tag", "missing"],
  ])("rejects %j with a clear error", (input, why) => {
    let error: unknown;
    try {
      parseImageReference(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("INVALID_REFERENCE");
    expect((error as RegistryError).message).toContain(`"${input}"`);
    expect((error as RegistryError).message).toContain(why);
  });

  it("treats loopback hosts as plain-HTTP candidates only", () => {
    expect(isLoopbackHost("127.0.0.1:5000")).toBe(true);
    expect(isLoopbackHost("localhost:5000")).toBe(true);
    expect(isLoopbackHost("[::1]:5000")).toBe(true);
    expect(isLoopbackHost("registry-1.docker.io")).toBe(false);
    expect(isLoopbackHost("127.0.0.1.example.com")).toBe(false);
  });
});
