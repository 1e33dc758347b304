import { linuxSyscalls } from "./linux.mjs";
import { isSysFailure, type Syscalls, toSyscallError } from "./syscalls.ts";

/**
 * The real Syscalls for TypeScript callers: the koffi implementation with its failures converted to
 * the runtime's SyscallError.
 */
export function hostSyscalls(): Syscalls {
  return new Proxy(linuxSyscalls, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          return value.apply(target, args);
        } catch (e) {
          throw isSysFailure(e) ? toSyscallError(e) : e;
        }
      };
    },
  });
}
