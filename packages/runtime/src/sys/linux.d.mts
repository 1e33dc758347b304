import type { Syscalls } from "./syscalls.ts";

/** Name of an errno value (`EINVAL`), or `errno N` when unknown. */
export declare function errnoName(errno: number): string;

/** A failed system call as thrown by linuxSyscalls. */
export declare class SysError extends Error {
  readonly code: "SYSCALL_FAILED";
  readonly call: string;
  readonly args: unknown[];
  readonly errno: number;
  readonly errnoName: string;
  constructor(call: string, args: unknown[], errno: number, what?: string);
}

/** The real Syscalls implementation over koffi. */
export declare const linuxSyscalls: Syscalls;
