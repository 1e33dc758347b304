import { posix } from "node:path";
import { z } from "zod";
import { parseFlagValue } from "./flag-value.ts";

export const volumeMountSchema = z.object({
  /** Absolute, normalised host path. */
  source: z.string().startsWith("/"),
  /** Absolute, normalised path inside the container; never `/`. */
  destination: z.string().startsWith("/"),
  readonly: z.boolean(),
});
export type VolumeMount = z.infer<typeof volumeMountSchema>;

/** An absolute path without `..` components, normalised (`//a/./b/` → `/a/b`); else a reason. */
export function cleanAbsolutePath(path: string, what: string): string | { error: string } {
  if (!path.startsWith("/")) return { error: `${what} must be an absolute path` };
  if (path.split("/").includes("..")) return { error: `${what} must not contain ".."` };
  if (path.includes("\0")) return { error: `${what} must not contain NUL` };
  const clean = posix.normalize(path);
  return clean.length > 1 ? clean.replace(/\/+$/, "") : clean;
}

const volumeStringSchema = z.string().transform((raw, ctx): VolumeMount => {
  const fail = (message: string) => {
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  const parts = raw.split(":");
  if (parts.length < 2 || parts.length > 3) {
    return fail("expected HOSTPATH:CTRPATH[:ro|rw]");
  }
  const [hostPath, ctrPath, mode = "rw"] = parts as [string, string, string?];
  if (mode !== "ro" && mode !== "rw") return fail(`unknown mode "${mode}": use ro or rw`);
  const source = cleanAbsolutePath(hostPath, "the host path");
  if (typeof source !== "string") return fail(source.error);
  const destination = cleanAbsolutePath(ctrPath, "the container path");
  if (typeof destination !== "string") return fail(destination.error);
  if (destination === "/") return fail("the container path cannot be /");
  return { source, destination, readonly: mode === "ro" };
});

/** `-v, --volume HOSTPATH:CTRPATH[:ro|rw]`: a bind mount of a host directory or file. */
export function parseVolume(value: string): VolumeMount {
  return parseFlagValue(volumeStringSchema, "--volume", value);
}
