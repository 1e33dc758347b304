import { z } from "zod";
import { parseFlagValue } from "./flag-value.ts";

/** A user or group given by number or by name (resolved later in the rootfs's /etc files). */
export const idOrNameSchema = z.union([
  z.object({ id: z.number().int().min(0).max(0xfffffffe) }),
  z.object({ name: z.string().min(1) }),
]);
export type IdOrName = z.infer<typeof idOrNameSchema>;

export const userSpecSchema = z.object({ user: idOrNameSchema, group: idOrNameSchema.optional() });
/** What `-u` asked for: `UID[:GID]` or `name[:group]`, mixed forms allowed (`app:0`). */
export type UserSpec = z.infer<typeof userSpecSchema>;

const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/;

function idOrName(text: string, what: string): IdOrName | string {
  if (text === "") return `the ${what} is empty`;
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    // (uid_t)-1 means "unchanged" to the kernel, so it cannot be a user.
    return id <= 0xfffffffe ? { id } : `${what} ID ${text} is out of range`;
  }
  return NAME.test(text) && text.length <= 256
    ? { name: text }
    : `"${text}" is not a valid ${what} name`;
}

const userStringSchema = z.string().transform((raw, ctx): UserSpec => {
  const parts = raw.split(":");
  const fail = (message: string) => {
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  if (parts.length > 2) return fail("expected UID[:GID] or NAME[:GROUP]");
  const user = idOrName(parts[0]!, "user");
  if (typeof user === "string") return fail(user);
  if (parts.length === 1) return { user };
  const group = idOrName(parts[1]!, "group");
  if (typeof group === "string") return fail(group);
  return { user, group };
});

/** `-u, --user UID[:GID]` or `NAME[:GROUP]`. */
export function parseUserSpec(value: string): UserSpec {
  return parseFlagValue(userStringSchema, "--user", value);
}

/** The `-u` text of a parsed spec (`app`, `1000:1000`, `app:staff`): for image configs' User. */
export function formatUserSpec(spec: UserSpec): string {
  const one = (v: IdOrName) => ("id" in v ? String(v.id) : v.name);
  return spec.group ? `${one(spec.user)}:${one(spec.group)}` : one(spec.user);
}
