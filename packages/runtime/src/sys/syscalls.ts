import { SyscallError } from "../errors.ts";

/**
 * The kernel seam (youki's Syscall trait). Namespace, mount and credential logic calls only this
 * interface, so it is unit-tested with RecordingSyscalls and integration-tested with the koffi
 * implementation in linux.mjs. Every method throws on failure with the call, its arguments and
 * the errno name (a SysError from linux.mjs, a SyscallError after `toSyscallError`).
 */
export interface Syscalls {
  /** mount(2); `what` in errors reads `mount <fstype|source> on <target>`. */
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void;
  /**
   * An overlayfs at `target` through the new mount API (fsopen/fsconfig/fsmount/move_mount), one
   * `lowerdir+` per layer (topmost first), so the number of layers is not bounded by mount(2)'s
   * one-page option string. With a null upper dir: a read-only overlay (two lowers at least).
   */
  mountOverlay(
    target: string,
    lowerDirs: readonly string[],
    upperDir: string | null,
    workDir: string | null,
  ): void;
  /** umount2(2), e.g. MNT_DETACH for the old root after pivot_root. */
  umount2(target: string, flags: number): void;
  /** pivot_root(2) as a raw syscall (glibc has no wrapper). */
  pivotRoot(newRoot: string, putOld: string): void;
  /** unshare(2) for the calling thread. */
  unshare(flags: number): void;
  /** setns(2) for the calling thread. */
  setns(fd: number, nstype: number): void;
  /** sethostname(2) in the current UTS namespace. */
  sethostname(name: string): void;
  /** chdir(2). */
  chdir(path: string): void;
  /** prctl(2); returns the call's result (PR_CAPBSET_READ and friends). */
  prctl(option: number, arg2?: number, arg3?: number, arg4?: number, arg5?: number): number;
  /** capset(2) v3 for this thread: 64-bit masks of effective, permitted, inheritable. */
  capset(effective: bigint, permitted: bigint, inheritable: bigint): void;
  /** seccomp(SECCOMP_SET_MODE_FILTER, flags) with a BPF program (struct sock_filter[] bytes). */
  seccompInstall(filter: Uint8Array, flags?: number): void;
  /** Raw setresuid(2): this thread only, unlike glibc's all-threads wrapper. */
  setresuid(r: number, e: number, s: number): void;
  /** Raw setresgid(2): this thread only. */
  setresgid(r: number, e: number, s: number): void;
  /** Raw setgroups(2): this thread only. */
  setgroups(gids: number[]): void;
  /** setrlimit(2) for the process. */
  setrlimit(resource: number, soft: bigint | number, hard: bigint | number): void;
  /** execve(2); returns only by throwing. */
  execve(path: string, argv: string[], env: string[]): void;
  /** fcntl(2) with an integer argument. */
  fcntl(fd: number, cmd: number, arg?: number): number;
  /** close_range(2), e.g. with CLOSE_RANGE_CLOEXEC. */
  closeRange(first: number, last: number, flags: number): void;
  /** mknod(2). */
  mknod(path: string, mode: number, dev: number): void;
  /** mkdir(2). */
  mkdir(path: string, mode: number): void;
  /** symlink(2): `linkPath` will point at `target`. */
  symlink(target: string, linkPath: string): void;
  /** open(2); returns the fd. */
  open(path: string, flags: number, mode?: number): number;
  /** close(2). */
  close(fd: number): void;
  /** dup2(2). */
  dup2(oldFd: number, newFd: number): number;
  /** setsid(2). */
  setsid(): number;
  /**
   * Opens a ptmx node O_RDWR|O_NOCTTY|O_CLOEXEC, checks that it is one (character device 5:2) and
   * unlocks the new pty (TIOCSPTLCK 0); returns the master fd.
   */
  ptmxOpen(path: string): number;
  /** The slave of a pty master as a new fd (TIOCGPTPEER: no path lookup), O_NOCTTY|O_CLOEXEC. */
  ptyPeer(master: number): number;
  /** ioctl(2) with an integer argument (TIOCSCTTY). */
  ioctl(fd: number, request: number, arg?: number): number;
  /** umask(2); returns the previous mask. */
  umask(mask: number): number;
  /** stat(2) reduced to what mount logic needs (masked paths: tmpfs on dirs, /dev/null on files). */
  statKind(path: string): "dir" | "file" | "missing";
  /** Sets IFF_UP on a network interface of the current network namespace (lo of a new one). */
  interfaceUp(name: string): void;
  /** readlink(2) without following: the link's target, or null when `path` is no symlink or missing. */
  readlink(path: string): string | null;
  /** lsetxattr(2): sets an extended attribute without following a final symlink. */
  lsetxattr(path: string, name: string, value: Uint8Array): void;
  /** lgetxattr(2): the attribute's value, or null when `path` does not have it (ENODATA). */
  lgetxattr(path: string, name: string): Buffer | null;
  /** llistxattr(2): the names of `path`'s extended attributes (not following a final symlink). */
  llistxattr(path: string): string[];
  /** execvp's PATH search in the current root; throws ENOENT "command not found: X". */
  lookPath(command: string, pathVar: string): string;
}

export type SyscallName = keyof Syscalls;

/** The shape linux.mjs throws (SysError) and the zygote reports over its control pipe. */
export interface SysFailure {
  message: string;
  call: string;
  args: unknown[];
  errno: number;
  errnoName: string;
}

export function isSysFailure(e: unknown): e is SysFailure {
  return typeof e === "object" && e !== null && "errnoName" in e && "call" in e;
}

/** Converts a failure from linux.mjs or the zygote into the runtime's SyscallError. */
export function toSyscallError(e: SysFailure): SyscallError {
  const what = e.message.replace(/ failed: [A-Z0-9 a-z]+$/, "");
  return new SyscallError(e.call, e.args, e.errno, e.errnoName, what);
}
