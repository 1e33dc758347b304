import { z } from "zod";

/**
 * The image part of the engine daemon's API. Transfers and builds answer NDJSON `ImageEvent`s so
 * that the command line can show progress as it happens.
 */
export const pullRequestSchema = z.strictObject({ ref: z.string().min(1) });
export const pushRequestSchema = z.strictObject({ ref: z.string().min(1) });
export const tagQuerySchema = z.object({ target: z.string().min(1) });
export const importRequestSchema = z.strictObject({
  /** A directory or a tarball (plain or gzip) on the daemon's host. */
  source: z.string().startsWith("/"),
  tag: z.string().min(1),
  /** Cmd, Entrypoint, Env, WorkingDir, User, … for the new image. */
  config: z.record(z.string(), z.unknown()).optional(),
});
export const saveRequestSchema = z.strictObject({
  refs: z.array(z.string().min(1)).min(1),
  format: z.enum(["docker-archive", "oci-archive"]).default("docker-archive"),
});
/** POST /v1/images/:ref/append (the layer tar is the body). */
export const derivedQuerySchema = z.object({
  tag: z.string().min(1),
  createdBy: z.string().default(""),
});
export const configureRequestSchema = z.strictObject({
  tag: z.string().min(1),
  config: z.record(z.string(), z.unknown()),
  createdBy: z.string().default(""),
});
export const bootstrapRequestSchema = z.strictObject({ name: z.string().min(1) });

const flag = z
  .enum(["1", "0", "true", "false"])
  .optional()
  .transform((v) => v === "1" || v === "true");
export const imageRemoveQuerySchema = z.object({ force: flag });
export const imagePruneQuerySchema = z.object({ all: flag });

export type ImageEvent =
  /** Bytes moved of one blob (a layer, config or manifest), as they move. */
  | { type: "progress"; id: string; action: "Downloading" | "Pushing"; done: number; total: number }
  /** A blob's outcome: "Already exists", "Download complete", "Pushed", "Layer already exists", … */
  | { type: "layer"; id: string; status: string }
  | { type: "status"; message: string }
  | { type: "done"; id: string; digest?: string; ref: string }
  | { type: "error"; code: string; message: string };
