import { ManagedPostgresError } from "@berth/db/errors";

/**
 * The db package speaks of options; an operator sets environment variables. Adds the variable to
 * errors whose fix is one.
 */
export function withOperatorHint(error: unknown): unknown {
  if (error instanceof ManagedPostgresError && error.code === "PORT_IN_USE") {
    return new Error(`${error.message} With ./berth, set BERTH_PG_PORT=<port>.`, { cause: error });
  }
  if (error instanceof ManagedPostgresError && error.code === "DATA_DIR_NOT_WRITABLE") {
    return new Error(`${error.message} With ./berth, BERTH_DATA_DIR=<dir> moves Berth's data.`, {
      cause: error,
    });
  }
  return error;
}
