import type { z } from "zod";
import { RuntimeError } from "../errors.ts";

/** The one-line error every bad command-line value gets: what was given, for which flag, why. */
export function invalidArgument(flag: string, value: string, why: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", `invalid argument "${value}" for ${flag}: ${why}`, {
    flag,
    value,
  });
}

/**
 * Parses one flag value with a zod schema whose issues carry the human reason, and throws
 * `invalidArgument` with the first issue's message.
 */
export function parseFlagValue<T>(schema: z.ZodType<T, string>, flag: string, value: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidArgument(flag, value, result.error.issues[0]?.message ?? "invalid value");
}
