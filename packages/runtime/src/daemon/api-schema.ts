import { z } from "zod";
import { runOptionsSchema } from "../spec/run-options.ts";

/**
 * The engine daemon's JSON API (over a unix socket), validated at the edge. Bodies are JSON; query
 * values arrive as strings. Streams (`logs`, attached `run`, `stats`) are NDJSON: one event a line.
 */

/** POST /v1/containers: create, and start unless `start` is false. */
export const createRequestSchema = z.strictObject({
  /** The command line's options; fields left out get its defaults (see engine/run-input.ts). */
  options: runOptionsSchema.partial(),
  start: z.boolean().default(true),
  /** Stream the container's output and exit as NDJSON events instead of returning at once. */
  attach: z.boolean().default(false),
});
export type CreateRequest = z.input<typeof createRequestSchema>;

const flag = z
  .enum(["1", "0", "true", "false"])
  .optional()
  .transform((v) => v === "1" || v === "true");

export const listQuerySchema = z.object({ all: flag });

export const stopQuerySchema = z.object({
  t: z.string().regex(/^\d+$/, "the stop timeout is whole seconds").transform(Number).optional(),
});

export const killQuerySchema = z.object({
  signal: z
    .string()
    .regex(/^(SIG)?[A-Z0-9+-]+$|^\d+$/i, "expected a signal name such as SIGTERM or a number")
    .optional(),
});

/** POST /v1/containers/:ref/commit. */
export const commitRequestSchema = z.strictObject({
  tag: z.string().min(1),
  changes: z.array(z.string()).default([]),
  comment: z.string().optional(),
  author: z.string().optional(),
  pause: z.boolean().default(true),
  /** Use this run config for the new image instead of the container's (build steps). */
  config: z.record(z.string(), z.unknown()).optional(),
});

export const removeQuerySchema = z.object({ force: flag, v: flag });

export const logsQuerySchema = z.object({
  follow: flag,
  /** Last N lines; absent or "all" for every line. */
  tail: z
    .string()
    .regex(/^(\d+|all)$/, "--tail takes a number of lines or 'all'")
    .optional()
    .transform((v) => (v === undefined || v === "all" ? undefined : Number(v))),
  /** Only lines at or after this ISO time. */
  since: z.iso.datetime({ offset: true }).optional(),
});

/** One event of an attached run or a log stream. */
export type StreamEvent =
  | { type: "created"; id: string; name: string }
  | { type: "log"; time: string; stream: "stdout" | "stderr"; log: string }
  | { type: "exit"; exitCode: number; oomKilled: boolean; signal: string | null }
  | { type: "error"; code: string; message: string };

/** The body of every error response. */
export interface ApiError {
  code: string;
  message: string;
}
