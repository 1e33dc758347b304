import { posix } from "node:path";
import { z } from "zod";
import { VOLUME_NAME_PATTERN } from "../volume/volume-names.ts";
import { parseFlagValue } from "./flag-value.ts";

export const volumeMountSchema = z.object({
  /** bind (absent in older state files): `source` is a host path; volume: a volume's name. */
  type: z.enum(["bind", "volume"]).optional(),
  /**
   * bind: an absolute, normalised host path. volume: the volume's name — empty for an anonymous
   * volume until the engine creates it.
   */
  source: z.string(),
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

/**
 * An anonymous volume at `destination` (absolute, normalised, not `/`): the engine creates it
 * with a random name when the container is created. `-v /path` and image VOLUMEs both give these.
 */
export function anonymousVolume(destination: string): VolumeMount {
  return { type: "volume", source: "", destination, readonly: false };
}

const volumeStringSchema = z.string().transform((raw, ctx): VolumeMount => {
  const fail = (message: string) => {
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  const parts = raw.split(":");
  if (parts.length > 3 || parts[0] === "") {
    return fail("expected HOSTPATH:CTRPATH[:ro|rw], NAME:CTRPATH[:ro|rw] or CTRPATH");
  }
  if (parts.length === 1) {
    // `-v /data`: an anonymous volume, made for this container.
    const destination = cleanAbsolutePath(parts[0] as string, "the container path");
    if (typeof destination !== "string") return fail(destination.error);
    if (destination === "/") return fail("the container path cannot be /");
    return anonymousVolume(destination);
  }
  const [from, ctrPath, mode = "rw"] = parts as [string, string, string?];
  if (mode !== "ro" && mode !== "rw") return fail(`unknown mode "${mode}": use ro or rw`);
  const destination = cleanAbsolutePath(ctrPath, "the container path");
  if (typeof destination !== "string") return fail(destination.error);
  if (destination === "/") return fail("the container path cannot be /");
  if (!from.startsWith("/")) {
    if (!VOLUME_NAME_PATTERN.test(from)) {
      return fail(
        `"${from}" is not a volume name (2 or more letters, digits, '_', '.', '-', the first a letter or digit); for a host directory give an absolute path`,
      );
    }
    return { type: "volume", source: from, destination, readonly: mode === "ro" };
  }
  const source = cleanAbsolutePath(from, "the host path");
  if (typeof source !== "string") return fail(source.error);
  return { source, destination, readonly: mode === "ro" };
});

/**
 * `-v, --volume`: HOSTPATH:CTRPATH[:ro|rw] binds a host directory or file; NAME:CTRPATH[:ro|rw]
 * mounts a named volume (created if missing); a lone CTRPATH gets an anonymous volume.
 */
export function parseVolume(value: string): VolumeMount {
  return parseFlagValue(volumeStringSchema, "--volume", value);
}
