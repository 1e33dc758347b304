/**
 * Errors thrown by @berth/db. Callers switch on `code`, never on the message; the message is for
 * the operator and always says what was attempted, on which path or port, and what to do next.
 */

/** Every reason the managed Postgres server can refuse or fail. */
export type ManagedPostgresErrorCode =
  | "INVALID_OPTIONS"
  | "BINARIES_MISSING"
  | "OS_USER_MISSING"
  | "DATA_DIR_NOT_WRITABLE"
  | "HALF_INITIALISED"
  | "NOT_INITIALISED"
  | "INIT_FAILED"
  | "PORT_IN_USE"
  | "SOCKET_DIR_NOT_WRITABLE"
  | "START_FAILED"
  | "STOP_FAILED";

/** What was going on when an error happened; every field ends up in the message. */
export interface ErrorContext {
  /** What was being attempted, e.g. "start managed Postgres". */
  action: string;
  /** The file or directory concerned, if any. */
  path?: string;
  /** The TCP port concerned, if any. */
  port?: number;
  /** What the operator can do about it. */
  hint: string;
  /** Last lines of the server log or of a tool's output, when a child process failed. */
  logTail?: readonly string[];
  /** The underlying error (errno, child exit), kept as `Error.cause`. */
  cause?: unknown;
}

/** Renders context into one readable message: "<action>: <problem> (path …, port …). <hint>". */
export function formatErrorMessage(problem: string, context: ErrorContext): string {
  const where = [
    context.path === undefined ? undefined : `path ${context.path}`,
    context.port === undefined ? undefined : `port ${context.port}`,
  ].filter((part) => part !== undefined);
  let message = `${context.action}: ${problem}`;
  if (where.length > 0) message += ` (${where.join(", ")})`;
  message += `. ${context.hint}`;
  if (context.logTail !== undefined && context.logTail.length > 0) {
    message += `\nLast lines of the log:\n${context.logTail.map((line) => `  ${line}`).join("\n")}`;
  }
  return message;
}

/** A failure of the managed Postgres server (init, start, stop) or of its options. */
export class ManagedPostgresError extends Error {
  override readonly name = "ManagedPostgresError";
  readonly code: ManagedPostgresErrorCode;
  readonly context: ErrorContext;

  constructor(code: ManagedPostgresErrorCode, problem: string, context: ErrorContext) {
    super(formatErrorMessage(problem, context), { cause: context.cause });
    this.code = code;
    this.context = context;
  }
}

/** A failure while applying SQL migrations. */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  readonly code = "MIGRATION_FAILED";
  readonly context: ErrorContext;

  constructor(problem: string, context: ErrorContext) {
    super(formatErrorMessage(problem, context), { cause: context.cause });
    this.context = context;
  }
}

/** True when `error` is a Node system error with the given errno code (ENOENT, EACCES, …). */
export function hasErrno(error: unknown, ...codes: string[]): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    codes.includes(error.code)
  );
}

/** The errno code or message of an unknown error, for embedding in a sentence. */
export function describeCause(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return `${error.code}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The kinds of integrity violation the platform turns into domain errors (Conflict, Invalid). */
export type ConstraintKind = "unique" | "check" | "foreign_key" | "not_null";

/** A Postgres integrity violation found in an error's cause chain. */
export interface ConstraintViolation {
  kind: ConstraintKind;
  /** The constraint's name as declared in the schema, e.g. `apps_name_key`. */
  constraint: string | undefined;
  table: string | undefined;
}

const CONSTRAINT_SQLSTATES: Record<string, ConstraintKind> = {
  "23505": "unique",
  "23514": "check",
  "23503": "foreign_key",
  "23502": "not_null",
};

/**
 * Finds the Postgres integrity violation behind `error` (drizzle wraps pg's error in `cause`), or
 * undefined when the error is something else.
 */
export function constraintViolationOf(error: unknown): ConstraintViolation | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const fields = current as Error & { code?: unknown; constraint?: unknown; table?: unknown };
    const kind = typeof fields.code === "string" ? CONSTRAINT_SQLSTATES[fields.code] : undefined;
    if (kind !== undefined) {
      return {
        kind,
        constraint: typeof fields.constraint === "string" ? fields.constraint : undefined,
        table: typeof fields.table === "string" ? fields.table : undefined,
      };
    }
    current = current.cause;
  }
  return undefined;
}
