import { describe, expect, it } from "vitest";
import { constraintViolationOf, formatErrorMessage, ManagedPostgresError } from "./errors.ts";

describe("formatErrorMessage", () => {
  it("says what was attempted, where, and what to do, then the log lines", () => {
    const message = formatErrorMessage("the server exited with code 1", {
      action: "start managed Postgres",
      path: "/var/lib/berth/postgres",
      port: 5433,
      hint: "See the log.",
      logTail: ["FATAL:  bad", "LOG:  exiting"],
    });
    expect(message).toBe(
      "start managed Postgres: the server exited with code 1 (path /var/lib/berth/postgres, port 5433). See the log.\n" +
        "Last lines of the log:\n  FATAL:  bad\n  LOG:  exiting",
    );
  });
});

describe("ManagedPostgresError", () => {
  it("carries code, context and cause", () => {
    const cause = new Error("EACCES");
    const error = new ManagedPostgresError("DATA_DIR_NOT_WRITABLE", "cannot create it", {
      action: "create",
      path: "/x",
      hint: "fix it",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ManagedPostgresError");
    expect(error.code).toBe("DATA_DIR_NOT_WRITABLE");
    expect(error.context.path).toBe("/x");
    expect(error.cause).toBe(cause);
  });
});

describe("constraintViolationOf", () => {
  it("finds pg's error under drizzle's wrapper", () => {
    const pgError = Object.assign(new Error("duplicate key"), {
      code: "23505",
      constraint: "apps_name_key",
      table: "apps",
    });
    const wrapped = new Error("Failed query", { cause: pgError });
    expect(constraintViolationOf(wrapped)).toEqual({
      kind: "unique",
      constraint: "apps_name_key",
      table: "apps",
    });
  });

  it("ignores other errors", () => {
    expect(constraintViolationOf(new Error("boom"))).toBeUndefined();
    expect(
      constraintViolationOf(Object.assign(new Error("x"), { code: "ENOENT" })),
    ).toBeUndefined();
    expect(constraintViolationOf("not an error")).toBeUndefined();
  });
});
