import type { SyscallName, Syscalls, SysFailure } from "./syscalls.ts";

export interface RecordedCall {
  call: SyscallName;
  args: unknown[];
}

/** A failure to inject: the first call matching `call` (and `match`, if given) fails with errno. */
export interface InjectedFailure {
  call: SyscallName;
  match?: (args: unknown[]) => boolean;
  errnoName: string;
}

/**
 * A Syscalls that records every call and succeeds, for unit tests of namespace/mount/credential
 * sequences without root. `open` returns increasing fds from 100; `statKind` and `lookPath` answer
 * from the `files` map; `failOn` makes one chosen call fail like the kernel would.
 */
export class RecordingSyscalls implements Syscalls {
  readonly calls: RecordedCall[] = [];
  private nextFd = 100;
  failures: InjectedFailure[] = [];

  constructor(
    readonly files: Record<string, "dir" | "file"> = {},
    /** Symlinks: path → target, answered by `readlink`. */
    readonly links: Record<string, string> = {},
  ) {}

  failOn(failure: InjectedFailure): this {
    this.failures.push(failure);
    return this;
  }

  private record(call: SyscallName, args: unknown[]): void {
    this.calls.push({ call, args });
    const i = this.failures.findIndex((f) => f.call === call && (f.match?.(args) ?? true));
    if (i >= 0) {
      const failure = this.failures[i]!;
      this.failures.splice(i, 1);
      const error: SysFailure & Error = Object.assign(
        new Error(
          `${call}(${args.map((a) => JSON.stringify(a)).join(", ")}) failed: ${failure.errnoName}`,
        ),
        { call, args, errno: -1, errnoName: failure.errnoName },
      );
      throw error;
    }
  }

  /** The calls as compact strings, e.g. `mount(proc,/x/proc,proc,14,null)`, for sequence asserts. */
  trace(): string[] {
    return this.calls.map(
      ({ call, args }) =>
        `${call}(${args.map((a) => (Array.isArray(a) ? `[${a.join(" ")}]` : a instanceof Uint8Array ? `<${a.length}B>` : String(a))).join(",")})`,
    );
  }

  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ) {
    this.record("mount", [source, target, fstype, flags, data]);
  }
  mountOverlay(
    target: string,
    lowerDirs: readonly string[],
    upperDir: string | null,
    workDir: string | null,
  ) {
    this.record("mountOverlay", [target, [...lowerDirs], upperDir, workDir]);
  }
  umount2(target: string, flags: number) {
    this.record("umount2", [target, flags]);
  }
  pivotRoot(newRoot: string, putOld: string) {
    this.record("pivotRoot", [newRoot, putOld]);
  }
  unshare(flags: number) {
    this.record("unshare", [flags]);
  }
  setns(fd: number, nstype: number) {
    this.record("setns", [fd, nstype]);
  }
  sethostname(name: string) {
    this.record("sethostname", [name]);
  }
  chdir(path: string) {
    this.record("chdir", [path]);
  }
  prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0) {
    this.record("prctl", [option, arg2, arg3, arg4, arg5]);
    return 0;
  }
  capset(effective: bigint, permitted: bigint, inheritable: bigint) {
    this.record("capset", [effective, permitted, inheritable]);
  }
  seccompInstall(filter: Uint8Array, flags = 0) {
    this.record("seccompInstall", [filter, flags]);
  }
  setresuid(r: number, e: number, s: number) {
    this.record("setresuid", [r, e, s]);
  }
  setresgid(r: number, e: number, s: number) {
    this.record("setresgid", [r, e, s]);
  }
  setgroups(gids: number[]) {
    this.record("setgroups", [gids]);
  }
  setrlimit(resource: number, soft: bigint | number, hard: bigint | number) {
    this.record("setrlimit", [resource, soft, hard]);
  }
  execve(path: string, argv: string[], env: string[]) {
    this.record("execve", [path, argv, env]);
  }
  fcntl(fd: number, cmd: number, arg = 0) {
    this.record("fcntl", [fd, cmd, arg]);
    return 0;
  }
  closeRange(first: number, last: number, flags: number) {
    this.record("closeRange", [first, last, flags]);
  }
  mknod(path: string, mode: number, dev: number) {
    this.record("mknod", [path, mode, dev]);
  }
  mkdir(path: string, mode: number) {
    this.record("mkdir", [path, mode]);
  }
  symlink(target: string, linkPath: string) {
    this.record("symlink", [target, linkPath]);
  }
  open(path: string, flags: number, mode = 0) {
    this.record("open", [path, flags, mode]);
    return this.nextFd++;
  }
  ptmxOpen(path: string) {
    this.record("ptmxOpen", [path]);
    return this.nextFd++;
  }
  ptyPeer(master: number) {
    this.record("ptyPeer", [master]);
    return this.nextFd++;
  }
  close(fd: number) {
    this.record("close", [fd]);
  }
  dup2(oldFd: number, newFd: number) {
    this.record("dup2", [oldFd, newFd]);
    return newFd;
  }
  setsid() {
    this.record("setsid", []);
    return 1;
  }
  ioctl(fd: number, request: number, arg = 0) {
    this.record("ioctl", [fd, request, arg]);
    return 0;
  }
  umask(mask: number) {
    this.record("umask", [mask]);
    return 0o22;
  }
  interfaceUp(name: string) {
    this.record("interfaceUp", [name]);
  }
  readlink(path: string) {
    this.record("readlink", [path]);
    return this.links[path] ?? null;
  }
  statKind(path: string) {
    this.record("statKind", [path]);
    return this.files[path] ?? "missing";
  }
  lsetxattr(path: string, name: string, value: Uint8Array) {
    this.record("lsetxattr", [path, name, value]);
  }
  lgetxattr(path: string, name: string) {
    this.record("lgetxattr", [path, name]);
    return null;
  }
  llistxattr(path: string) {
    this.record("llistxattr", [path]);
    return [];
  }
  lookPath(command: string, pathVar: string) {
    this.record("lookPath", [command, pathVar]);
    const candidates = command.includes("/")
      ? [command]
      : pathVar.split(":").map((dir) => `${dir}/${command}`);
    const found = candidates.find((c) => this.files[c] === "file");
    if (found) return found;
    throw Object.assign(new Error(`command not found: ${command} failed: ENOENT`), {
      call: "lookPath",
      args: [command],
      errno: 2,
      errnoName: "ENOENT",
    });
  }
}
