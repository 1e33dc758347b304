import { z } from "zod";
import { parseFlagValue } from "./flag-value.ts";
import { cleanAbsolutePath } from "./volume-mount.ts";

/** Docker's container name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (so at least two characters). */
export const containerNameSchema = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, {
  message: "names are two or more of [a-zA-Z0-9_.-], starting with a letter or digit",
});

/** `--name`. */
export function parseContainerName(value: string): string {
  return parseFlagValue(containerNameSchema, "--name", value);
}

const LABEL = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?";

/** An RFC 1123 host name that sethostname(2) accepts (at most 64 bytes, HOST_NAME_MAX). */
export const hostnameSchema = z
  .string()
  .max(64, { message: "a hostname has at most 64 characters" })
  .regex(new RegExp(`^${LABEL}(\\.${LABEL})*$`), {
    message: "expected letters, digits and hyphens in dot-separated labels (RFC 1123)",
  });

/** `-h, --hostname`. */
export function parseHostname(value: string): string {
  return parseFlagValue(hostnameSchema, "--hostname", value);
}

const workdirSchema = z.string().transform((raw, ctx) => {
  const clean = cleanAbsolutePath(raw, "the working directory");
  if (typeof clean === "string") return clean;
  ctx.addIssue({ code: "custom", message: clean.error });
  return z.NEVER;
});

/** `-w, --workdir`: an absolute path inside the container. */
export function parseWorkdir(value: string): string {
  return parseFlagValue(workdirSchema, "--workdir", value);
}

export const networkModeSchema = z.enum(["bridge", "none", "host"], {
  error: "expected bridge, none or host",
});
export type NetworkMode = z.infer<typeof networkModeSchema>;

/** `--network bridge|none|host`. */
export function parseNetworkMode(value: string): NetworkMode {
  return parseFlagValue(networkModeSchema, "--network", value);
}
