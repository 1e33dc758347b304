/**
 * Every failure the engine reports is a RuntimeError: a stable code for programs, and a message a
 * person can act on (what was attempted, on which object, the errno name, what to do).
 */
export type RuntimeErrorCode =
  | "SYSCALL_FAILED"
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "INVALID_STATE"
  | "CGROUP_FAILED"
  | "NETWORK_FAILED"
  | "COMMAND_NOT_FOUND"
  | "INTERNAL";

export class RuntimeError extends Error {
  override readonly name: string = "RuntimeError";
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A failed system call, named with its arguments and errno, like runc's os.NewSyscallError. */
export class SyscallError extends RuntimeError {
  override readonly name = "SyscallError";
  constructor(
    readonly call: string,
    readonly args: readonly unknown[],
    readonly errno: number,
    readonly errnoName: string,
    what?: string,
  ) {
    super(
      "SYSCALL_FAILED",
      `${what ?? `${call}(${args.map((a) => JSON.stringify(a)).join(", ")})`} failed: ${errnoName}`,
      { call, args, errno: errnoName },
    );
  }
}
