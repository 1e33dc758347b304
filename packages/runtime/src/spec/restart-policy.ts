import { z } from "zod";
import { parseFlagValue } from "./flag-value.ts";

export const restartPolicySchema = z.object({
  name: z.enum(["no", "always", "unless-stopped", "on-failure"]),
  /** Only with on-failure: give up after this many restarts (0 or absent: never give up). */
  maxRetries: z.number().int().nonnegative().optional(),
});
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

const restartStringSchema = z.string().transform((raw, ctx): RestartPolicy => {
  const fail = (message: string) => {
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  const [name, retries, ...extra] = raw.split(":");
  if (extra.length > 0) return fail("expected no, always, unless-stopped or on-failure[:N]");
  if (name !== "no" && name !== "always" && name !== "unless-stopped" && name !== "on-failure") {
    return fail("expected no, always, unless-stopped or on-failure[:N]");
  }
  if (retries === undefined) return { name };
  if (name !== "on-failure") return fail(`a maximum retry count cannot be used with "${name}"`);
  if (!/^\d+$/.test(retries)) return fail("the maximum retry count must be a non-negative integer");
  return { name, maxRetries: Number(retries) };
});

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestartPolicy(value: string): RestartPolicy {
  return parseFlagValue(restartStringSchema, "--restart", value);
}
