/**
 * One line for a person: typed errors already carry what was attempted and on what; anything
 * else (a bug) shows its stack when asked (BERTH_DEBUG=1).
 */
export function describeError(error: unknown, withStack: boolean): string {
  if (error instanceof Error) {
    if (withStack && error.stack) return error.stack;
    return error.message;
  }
  return String(error);
}
