import { z } from "zod";
import { ManagedPostgresError } from "../errors.ts";

// Linux limits a unix socket path to 107 bytes plus NUL (sun_path is 108 bytes).
const MAX_SOCKET_PATH_BYTES = 107;

/** The socket file Postgres creates inside its socket directory for a port. */
export function socketPath(socketDir: string, port: number): string {
  return `${socketDir}/.s.PGSQL.${port}`;
}

const absolutePath = z
  .string()
  .startsWith("/", "must be an absolute path")
  // Newlines would corrupt postgresql.conf and postmaster.pid, which are line-based.
  .refine((path) => !/[\0\n\r]/.test(path), "must not contain NUL or line breaks")
  .transform((path) => (path.length > 1 ? path.replace(/\/+$/, "") : path));

/** Options of the managed Postgres server; every field has a production default. */
export const managedPostgresOptionsSchema = z
  .strictObject({
    /** The cluster's data directory (PGDATA). */
    dataDir: absolutePath.default("/var/lib/berth/postgres"),
    /** Where the unix socket goes; the trust-authenticated way in, for root and the OS user only. */
    socketDir: absolutePath.default("/run/berth/postgres"),
    /** TCP port on 127.0.0.1; 5433 so a distribution Postgres on 5432 can coexist. */
    port: z
      .number()
      .int()
      .min(1024, "must be 1024 or above (Postgres runs unprivileged)")
      .max(65535)
      .default(5433),
    /** The unprivileged OS user that owns the data and runs the server (initdb refuses root). */
    osUser: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, "must be a plain user name")
      .default("postgres"),
    /** Server log (stderr of the postmaster). Defaults to /var/log/berth/postgres.log. */
    logFile: absolutePath.default("/var/log/berth/postgres.log"),
    /** Superuser password file (0600); defaults to `<dataDir>.password` beside the data directory. */
    passwordFile: absolutePath.optional(),
    /** Where Debian installs server versions: `<root>/<major>/bin`. */
    binariesRoot: absolutePath.default("/usr/lib/postgresql"),
    /** false turns off fsync and WAL safety: only for throwaway test clusters. */
    durable: z.boolean().default(true),
    /** How long start() and stop() wait for the server. */
    timeoutMs: z.number().int().positive().default(30_000),
  })
  .refine(
    (options) =>
      Buffer.byteLength(socketPath(options.socketDir, options.port)) <= MAX_SOCKET_PATH_BYTES,
    {
      path: ["socketDir"],
      message: `with the socket file name appended must fit in ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket limit); choose a shorter directory`,
    },
  )
  .transform((options) => ({
    ...options,
    passwordFile: options.passwordFile ?? `${options.dataDir}.password`,
  }));

/** Options as callers write them; everything is optional. */
export type ManagedPostgresOptions = z.input<typeof managedPostgresOptionsSchema>;

/** Options after defaults are filled in and checks have passed. */
export type ResolvedOptions = z.output<typeof managedPostgresOptionsSchema>;

/** Validates options and fills in defaults, or throws INVALID_OPTIONS listing every problem. */
export function resolveOptions(options: ManagedPostgresOptions = {}): ResolvedOptions {
  const parsed = managedPostgresOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "options"} ${issue.message}`,
  );
  throw new ManagedPostgresError("INVALID_OPTIONS", problems.join("; "), {
    action: "configure managed Postgres",
    hint: "Fix the options passed to ManagedPostgres.",
    cause: parsed.error,
  });
}
