import { expect } from "vitest";
import { RuntimeError } from "../errors.ts";

/** Asserts that `fn` throws a RuntimeError INVALID_ARGUMENT whose message is exactly `message`. */
export function expectInvalid(fn: () => unknown, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, "expected an error").toBeInstanceOf(RuntimeError);
  expect((error as RuntimeError).code).toBe("INVALID_ARGUMENT");
  expect((error as RuntimeError).message).toBe(message);
  expect((error as RuntimeError).message).not.toContain("\n");
}
