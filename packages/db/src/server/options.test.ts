import { describe, expect, it } from "vitest";
import { ManagedPostgresError } from "../errors.ts";
import { resolveOptions } from "./options.ts";

function problemOf(options: Parameters<typeof resolveOptions>[0]): ManagedPostgresError {
  try {
    resolveOptions(options);
  } catch (error) {
    if (error instanceof ManagedPostgresError) return error;
    throw error;
  }
  throw new Error("expected INVALID_OPTIONS");
}

describe("resolveOptions", () => {
  it("fills in production defaults", () => {
    expect(resolveOptions()).toEqual({
      dataDir: "/var/lib/berth/postgres",
      socketDir: "/run/berth/postgres",
      port: 5433,
      osUser: "postgres",
      logFile: "/var/log/berth/postgres.log",
      passwordFile: "/var/lib/berth/postgres.password",
      binariesRoot: "/usr/lib/postgresql",
      durable: true,
      timeoutMs: 30_000,
    });
  });

  it("puts the password file beside a custom data directory, without trailing slashes", () => {
    const options = resolveOptions({ dataDir: "/srv/pg/data/" });
    expect(options.dataDir).toBe("/srv/pg/data");
    expect(options.passwordFile).toBe("/srv/pg/data.password");
  });

  it("rejects relative paths, naming the field", () => {
    const error = problemOf({ dataDir: "data" });
    expect(error.code).toBe("INVALID_OPTIONS");
    expect(error.message).toContain("dataDir must be an absolute path");
  });

  it("rejects privileged and out-of-range ports", () => {
    expect(problemOf({ port: 80 }).message).toContain("port must be 1024 or above");
    expect(problemOf({ port: 70000 }).code).toBe("INVALID_OPTIONS");
    expect(problemOf({ port: 5433.5 }).code).toBe("INVALID_OPTIONS");
  });

  it("rejects line breaks in paths (postgresql.conf is line-based)", () => {
    expect(problemOf({ socketDir: "/run/a\nb" }).message).toContain("socketDir");
  });

  it("rejects a socket directory too long for a unix socket path", () => {
    const error = problemOf({ socketDir: `/${"s".repeat(100)}` });
    expect(error.message).toContain("socketDir");
    expect(error.message).toContain("107 bytes");
  });

  it("rejects unknown options (a typo must not silently fall back to a default)", () => {
    expect(problemOf({ datadir: "/x" } as never).code).toBe("INVALID_OPTIONS");
  });

  it("rejects OS user names that are not plain names", () => {
    expect(problemOf({ osUser: "postgres; rm -rf /" }).message).toContain("osUser");
  });
});
