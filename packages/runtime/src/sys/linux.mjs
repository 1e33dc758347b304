// The real kernel seam: every koffi call of the runtime lives here. Plain ESM JavaScript (typed by
// linux.d.mts) because the zygote imports it without a TypeScript loader — its boot time is on the
// pool-refill path. Each method throws a SysError naming the call, its arguments and the errno name.
//
// errno is read with koffi.errno() immediately after the call, on the same thread, before any other
// JavaScript that could make a libc call runs. Credential calls (setresuid, setresgid, setgroups)
// are made as raw syscalls: glibc's wrappers broadcast them to every thread of the process, which in
// a Node process would race the runtime's own threads; the kernel call changes only this thread,
// which is the one that execs.
import fs from "node:fs";
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

/** x86_64 syscall numbers for calls that glibc wraps unhelpfully or not at all. */
const NR = {
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  capset: 126,
  pivot_root: 155,
  seccomp: 317,
  close_range: 436,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
};

// <linux/mount.h>: the new mount API (5.2+; `lowerdir+` for overlayfs since 6.8).
const FSOPEN_CLOEXEC = 1;
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 1;
const MOVE_MOUNT_F_EMPTY_PATH = 4;
const AT_FDCWD = -100;

const ERRNO_NAMES = Object.fromEntries(
  Object.entries(koffi.os.errno).map(([name, value]) => [value, name]),
);

/** Name of an errno value (`EINVAL`), or `errno N` when unknown. */
export function errnoName(errno) {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** A failed system call; the TypeScript side converts it to SyscallError (see syscalls.ts). */
export class SysError extends Error {
  constructor(call, args, errno, what) {
    const name = errnoName(errno);
    super(`${what ?? `${call}(${args.map((a) => JSON.stringify(a)).join(", ")})`} failed: ${name}`);
    this.name = "SysError";
    this.code = "SYSCALL_FAILED";
    this.call = call;
    this.args = args;
    this.errno = errno;
    this.errnoName = name;
  }
}

const f = {
  mount: libc.func(
    "int mount(const char *, const char *, const char *, unsigned long, const char *)",
  ),
  umount2: libc.func("int umount2(const char *, int)"),
  unshare: libc.func("int unshare(int)"),
  setns: libc.func("int setns(int, int)"),
  sethostname: libc.func("int sethostname(const char *, size_t)"),
  chdir: libc.func("int chdir(const char *)"),
  prctl: libc.func("int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)"),
  mknod: libc.func("int mknod(const char *, uint32_t, uint64_t)"),
  mkdir: libc.func("int mkdir(const char *, uint32_t)"),
  symlink: libc.func("int symlink(const char *, const char *)"),
  open: libc.func("int open(const char *, int, ...)"),
  close: libc.func("int close(int)"),
  dup2: libc.func("int dup2(int, int)"),
  fcntl: libc.func("int fcntl(int, int, ...)"),
  ioctl: libc.func("int ioctl(int, unsigned long, ...)"),
  setsid: libc.func("int setsid()"),
  execve: libc.func("int execve(const char *, const char **, const char **)"),
  syscall: libc.func("long syscall(long, ...)"),
  umask: libc.func("uint32_t umask(uint32_t)"),
  socket: libc.func("int socket(int, int, int)"),
  readlink: libc.func("long readlink(const char *, void *, size_t)"),
  lsetxattr: libc.func("int lsetxattr(const char *, const char *, const void *, size_t, int)"),
  lgetxattr: libc.func("long lgetxattr(const char *, const char *, void *, size_t)"),
  llistxattr: libc.func("long llistxattr(const char *, void *, size_t)"),
};

// Registers the struct type by name for the setrlimit prototype below.
koffi.struct("berth_rlimit", { cur: "uint64_t", max: "uint64_t" });
f.setrlimit = libc.func("int setrlimit(int, const berth_rlimit *)");

const SockFprog = koffi.struct("berth_sock_fprog", { len: "uint16_t", filter: "void *" });

/** Turns a raw result into a number; on failure (< 0) reads errno at once and throws a SysError. */
function check(call, args, what, result) {
  if (result < 0) throw new SysError(call, args, koffi.errno(), what);
  return Number(result);
}

const lo32 = (v) => Number(BigInt(v) & 0xffffffffn);
const hi32 = (v) => Number((BigInt(v) >> 32n) & 0xffffffffn);

/** /dev/ptmx and devpts' own ptmx node: character device 5:2. */
const PTMX_RDEV = (5 << 8) | 2;
// <asm-generic/ioctls.h> (x86_64): _IOW('T', 0x31, int), _IO('T', 0x41).
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

/** The real Syscalls implementation (see syscalls.ts for the documented interface). */
export const linuxSyscalls = {
  mount(source, target, fstype, flags, data) {
    const what = `mount ${fstype ?? source ?? "(none)"} on ${target}`;
    return void check(
      "mount",
      [source, target, fstype, flags, data],
      what,
      f.mount(source, target, fstype, flags, data),
    );
  },
  mountOverlay(target, lowerDirs, upperDir, workDir) {
    // One fsconfig call per layer: no option string, so no one-page limit on how many layers an
    // image may have (the legacy mount(2) data caps `lowerdir=` at ~4 KiB of paths).
    const what = `mount overlay on ${target}`;
    const fd = check(
      "fsopen",
      ["overlay"],
      what,
      f.syscall(NR.fsopen, "str", "overlay", "int", FSOPEN_CLOEXEC),
    );
    let mfd = -1;
    try {
      const set = (key, value) =>
        check(
          "fsconfig",
          [key, value],
          `${what}: setting ${key}=${value}`,
          f.syscall(
            NR.fsconfig,
            "int",
            fd,
            "int",
            FSCONFIG_SET_STRING,
            "str",
            key,
            "str",
            value,
            "int",
            0,
          ),
        );
      for (const dir of lowerDirs) set("lowerdir+", dir);
      // Without an upper dir the overlay is read-only (an image's merged view, e.g. for copy-up).
      if (upperDir !== null) {
        set("upperdir", upperDir);
        set("workdir", workDir);
      }
      check(
        "fsconfig",
        ["create"],
        `${what} (${lowerDirs.length} layers)`,
        f.syscall(
          NR.fsconfig,
          "int",
          fd,
          "int",
          FSCONFIG_CMD_CREATE,
          "str",
          null,
          "str",
          null,
          "int",
          0,
        ),
      );
      mfd = check(
        "fsmount",
        [],
        what,
        f.syscall(NR.fsmount, "int", fd, "int", FSMOUNT_CLOEXEC, "int", 0),
      );
      check(
        "move_mount",
        [target],
        what,
        f.syscall(
          NR.move_mount,
          "int",
          mfd,
          "str",
          "",
          "int",
          AT_FDCWD,
          "str",
          target,
          "int",
          MOVE_MOUNT_F_EMPTY_PATH,
        ),
      );
    } finally {
      if (mfd >= 0) f.close(mfd);
      f.close(fd);
    }
  },
  umount2(target, flags) {
    return void check("umount2", [target, flags], `umount ${target}`, f.umount2(target, flags));
  },
  pivotRoot(newRoot, putOld) {
    const r = f.syscall(NR.pivot_root, "str", newRoot, "str", putOld);
    return void check("pivot_root", [newRoot, putOld], undefined, r);
  },
  unshare(flags) {
    return void check("unshare", [flags], undefined, f.unshare(flags));
  },
  setns(fd, nstype) {
    return void check("setns", [fd, nstype], undefined, f.setns(fd, nstype));
  },
  sethostname(name) {
    const len = Buffer.byteLength(name);
    return void check("sethostname", [name], undefined, f.sethostname(name, len));
  },
  chdir(path) {
    return void check("chdir", [path], undefined, f.chdir(path));
  },
  prctl(option, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0) {
    return check("prctl", [option, arg2], undefined, f.prctl(option, arg2, arg3, arg4, arg5));
  },
  capset(effective, permitted, inheritable) {
    // struct __user_cap_header_struct { u32 version; int pid; } with _LINUX_CAPABILITY_VERSION_3,
    // then two struct __user_cap_data_struct { u32 effective, permitted, inheritable; } words.
    const header = Buffer.alloc(8);
    header.writeUInt32LE(0x20080522, 0);
    const data = Buffer.alloc(24);
    const words = [effective, permitted, inheritable];
    words.forEach((v, i) => {
      data.writeUInt32LE(lo32(v), i * 4);
      data.writeUInt32LE(hi32(v), 12 + i * 4);
    });
    const r = f.syscall(NR.capset, "void *", header, "void *", data);
    return void check(
      "capset",
      [String(effective), String(permitted), String(inheritable)],
      undefined,
      r,
    );
  },
  seccompInstall(filter, flags = 0) {
    // `filter` is the BPF program as bytes: struct sock_filter[] (8 bytes each).
    const prog = { len: filter.length / 8, filter: Buffer.from(filter) };
    // SECCOMP_SET_MODE_FILTER = 1; without TSYNC the filter applies to this thread, which execs next.
    const r = f.syscall(NR.seccomp, "int", 1, "uint", flags, koffi.pointer(SockFprog), prog);
    const args = [`<${prog.len} instructions>`, flags];
    return void check("seccomp", args, "seccomp(SET_MODE_FILTER)", r);
  },
  setresuid(r, e, s) {
    const res = f.syscall(NR.setresuid, "int", r, "int", e, "int", s);
    return void check("setresuid", [r, e, s], undefined, res);
  },
  setresgid(r, e, s) {
    const res = f.syscall(NR.setresgid, "int", r, "int", e, "int", s);
    return void check("setresgid", [r, e, s], undefined, res);
  },
  setgroups(gids) {
    const list = new Uint32Array(gids.length === 0 ? [0] : gids);
    const res = f.syscall(NR.setgroups, "int", gids.length, "void *", list);
    return void check("setgroups", [gids], undefined, res);
  },
  setrlimit(resource, soft, hard) {
    const r = f.setrlimit(resource, { cur: BigInt(soft), max: BigInt(hard) });
    return void check("setrlimit", [resource, String(soft), String(hard)], undefined, r);
  },
  execve(path, argv, env) {
    const r = f.execve(path, [...argv, null], [...env, null]);
    // Only reached on failure.
    return void check("execve", [path, argv], `exec ${path}`, r);
  },
  fcntl(fd, cmd, arg = 0) {
    return check("fcntl", [fd, cmd, arg], undefined, f.fcntl(fd, cmd, "int", arg));
  },
  closeRange(first, last, flags) {
    const r = f.syscall(NR.close_range, "uint", first, "uint", last, "uint", flags);
    return void check("close_range", [first, last, flags], undefined, r);
  },
  mknod(path, mode, dev) {
    return void check("mknod", [path, mode, dev], `mknod ${path}`, f.mknod(path, mode, dev));
  },
  mkdir(path, mode) {
    return void check("mkdir", [path, mode], `mkdir ${path}`, f.mkdir(path, mode));
  },
  symlink(target, linkPath) {
    const what = `symlink ${linkPath} -> ${target}`;
    return void check("symlink", [target, linkPath], what, f.symlink(target, linkPath));
  },
  ptmxOpen(path) {
    const O_RDWR_NOCTTY_CLOEXEC = 0o2 | 0o400 | 0o2000000;
    const master = linuxSyscalls.open(path, O_RDWR_NOCTTY_CLOEXEC, 0);
    try {
      const st = fs.fstatSync(master);
      if (!st.isCharacterDevice() || st.rdev !== PTMX_RDEV) {
        throw new SysError(
          "open",
          [path],
          koffi.os.errno.ENODEV,
          `open ${path} (not a ptmx device)`,
        );
      }
      const unlock = new Int32Array([0]);
      check(
        "ioctl",
        [master, "TIOCSPTLCK", 0],
        `ioctl TIOCSPTLCK on ${path}`,
        f.ioctl(master, TIOCSPTLCK, "void *", unlock),
      );
      return master;
    } catch (e) {
      f.close(master);
      throw e;
    }
  },
  ptyPeer(master) {
    const flags = 0o2 | 0o400 | 0o2000000;
    return check(
      "ioctl",
      [master, "TIOCGPTPEER", flags],
      "ioctl TIOCGPTPEER",
      f.ioctl(master, TIOCGPTPEER, "int", flags),
    );
  },
  open(path, flags, mode = 0) {
    return check(
      "open",
      [path, flags, mode],
      `open ${path}`,
      f.open(path, flags, "uint32_t", mode),
    );
  },
  close(fd) {
    return void check("close", [fd], undefined, f.close(fd));
  },
  dup2(oldFd, newFd) {
    return check("dup2", [oldFd, newFd], undefined, f.dup2(oldFd, newFd));
  },
  setsid() {
    return check("setsid", [], undefined, f.setsid());
  },
  umask(mask) {
    return f.umask(mask);
  },
  statKind(path) {
    // Synchronous on purpose: this thread may be in a new mount namespace, libuv's pool is not.
    const st = fs.statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return "missing";
    return st.isDirectory() ? "dir" : "file";
  },
  interfaceUp(name) {
    // struct ifreq: char ifr_name[16], then a union whose first member is short ifr_flags.
    const SIOCGIFFLAGS = 0x8913;
    const SIOCSIFFLAGS = 0x8914;
    const IFF_UP = 1;
    const AF_INET = 2;
    const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;
    const ifr = Buffer.alloc(40);
    ifr.write(name, 0, 15);
    const fd = check(
      "socket",
      [AF_INET, SOCK_DGRAM_CLOEXEC, 0],
      undefined,
      f.socket(AF_INET, SOCK_DGRAM_CLOEXEC, 0),
    );
    try {
      check(
        "ioctl",
        [fd, "SIOCGIFFLAGS", name],
        `get flags of ${name}`,
        f.ioctl(fd, SIOCGIFFLAGS, "void *", ifr),
      );
      ifr.writeInt16LE(ifr.readInt16LE(16) | IFF_UP, 16);
      check(
        "ioctl",
        [fd, "SIOCSIFFLAGS", name],
        `bring ${name} up`,
        f.ioctl(fd, SIOCSIFFLAGS, "void *", ifr),
      );
    } finally {
      f.close(fd);
    }
  },
  readlink(path) {
    // Through libc, not fs.readlinkSync: a plain directory (EINVAL) is the common answer when
    // resolving mount targets, and a thrown-and-caught Node error per path component is slow.
    const buf = Buffer.alloc(4096);
    const n = Number(f.readlink(path, buf, buf.length));
    if (n >= 0) return buf.toString("utf8", 0, n);
    const errno = koffi.errno();
    const { EINVAL, ENOENT, ENOTDIR } = koffi.os.errno;
    if (errno === EINVAL || errno === ENOENT || errno === ENOTDIR) return null;
    throw new SysError("readlink", [path], errno, `readlink ${path}`);
  },

  lookPath(command, pathVar) {
    const candidates = command.includes("/")
      ? [command]
      : pathVar
          .split(":")
          .filter((dir) => dir !== "")
          .map((dir) => `${dir}/${command}`);
    for (const candidate of candidates) {
      const st = fs.statSync(candidate, { throwIfNoEntry: false });
      if (st === undefined || st.isDirectory()) continue;
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // not executable: keep looking, like execvp
      }
    }
    throw new SysError(
      "lookPath",
      [command],
      koffi.os.errno.ENOENT,
      `command not found: ${command}`,
    );
  },
  ioctl(fd, request, arg = 0) {
    return check("ioctl", [fd, request, arg], undefined, f.ioctl(fd, request, "long", arg));
  },
  lsetxattr(path, name, value) {
    const buf = Buffer.from(value);
    const what = `setxattr ${name} on ${path}`;
    return void check("lsetxattr", [path, name], what, f.lsetxattr(path, name, buf, buf.length, 0));
  },
  lgetxattr(path, name) {
    // Ask for the size first; retry if the value grew in between (ERANGE).
    for (;;) {
      const size = Number(f.lgetxattr(path, name, null, 0));
      if (size < 0) {
        const errno = koffi.errno();
        if (errno === koffi.os.errno.ENODATA) return null;
        throw new SysError("lgetxattr", [path, name], errno, `getxattr ${name} of ${path}`);
      }
      const buf = Buffer.alloc(size);
      const n = Number(f.lgetxattr(path, name, buf, size));
      if (n >= 0) return buf.subarray(0, n);
      const errno = koffi.errno();
      if (errno !== koffi.os.errno.ERANGE) {
        throw new SysError("lgetxattr", [path, name], errno, `getxattr ${name} of ${path}`);
      }
    }
  },
  llistxattr(path) {
    for (;;) {
      const size = check("llistxattr", [path], `listxattr ${path}`, f.llistxattr(path, null, 0));
      if (size === 0) return [];
      const buf = Buffer.alloc(size);
      const n = Number(f.llistxattr(path, buf, size));
      if (n >= 0)
        return buf
          .toString("utf8", 0, n)
          .split("\0")
          .filter((s) => s !== "");
      const errno = koffi.errno();
      if (errno !== koffi.os.errno.ERANGE) {
        throw new SysError("llistxattr", [path], errno, `listxattr ${path}`);
      }
    }
  },
};
