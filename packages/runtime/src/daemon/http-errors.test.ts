import { describe, expect, it } from "vitest";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { toApiError } from "./http-errors.ts";

describe("toApiError", () => {
  it("maps RuntimeError codes to HTTP statuses, keeping code and message", () => {
    expect(toApiError(new RuntimeError("NOT_FOUND", "no such container: x"))).toEqual({
      status: 404,
      body: { code: "NOT_FOUND", message: "no such container: x" },
    });
    expect(toApiError(new RuntimeError("CONFLICT", "name in use")).status).toBe(409);
    expect(toApiError(new RuntimeError("INVALID_ARGUMENT", "bad")).status).toBe(400);
    expect(toApiError(new RuntimeError("SYSCALL_FAILED", "mount failed: EINVAL")).status).toBe(500);
  });

  it("turns a zod failure into one INVALID_ARGUMENT line naming the field", () => {
    const r = z.object({ t: z.number() }).safeParse({ t: "x" });
    const { status, body } = toApiError(r.error);
    expect(status).toBe(400);
    expect(body.code).toBe("INVALID_ARGUMENT");
    expect(body.message).toMatch(/^t: /);
  });
});
