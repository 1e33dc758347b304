// Pseudo-terminal calls the engine makes for exec -t and run -t (typed by pty.d.mts): on a master
// it holds, or to take one from a zygote. Opening ptmx and its peer are Syscalls in linux.mjs (the
// zygote does them for run -t). Each throws a SysError (linux.mjs) naming the call and the errno.
import fs from "node:fs";
import koffi from "koffi";
import { linuxSyscalls, SysError } from "./linux.mjs";

const libc = koffi.load("libc.so.6");
const ioctlPtr = libc.func("int ioctl(int, unsigned long, ...)");
const syscall = libc.func("long syscall(long, ...)");
const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;

// <asm-generic/ioctls.h> (x86_64): _IOR('T', 0x30, unsigned int).
const TIOCGPTN = 0x80045430;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;

function call(name, args, fd, request, arg) {
  const r = ioctlPtr(fd, request, "void *", arg);
  if (r < 0) throw new SysError("ioctl", [fd, name, ...args], koffi.errno(), `ioctl ${name}`);
  return r;
}

/**
 * Opens a ptmx node (`/dev/ptmx`, or a container's `/proc/<pid>/root/dev/pts/ptmx`), checks that it
 * is one, unlocks the new pty and returns the master (O_CLOEXEC, O_NOCTTY) and the pty's number in
 * that devpts instance.
 */
export function openPtyMaster(ptmxPath) {
  const master = linuxSyscalls.ptmxOpen(ptmxPath);
  try {
    const n = new Uint32Array(1);
    call("TIOCGPTN", [], master, TIOCGPTN, n);
    return { master, index: n[0] };
  } catch (e) {
    fs.closeSync(master);
    throw e;
  }
}

/** The slave of `master` as a new fd (TIOCGPTPEER: no path lookup), O_NOCTTY and O_CLOEXEC. */
export function openPtyPeer(master) {
  return linuxSyscalls.ptyPeer(master);
}

/**
 * A copy of fd `fd` of process `pid` in this process (pidfd_open + pidfd_getfd, O_CLOEXEC): how
 * the engine takes the pty master a zygote opened in the container's devpts.
 */
export function takeFd(pid, fd) {
  const pidfd = syscall(SYS_pidfd_open, "int", pid, "uint", 0);
  if (pidfd < 0) throw new SysError("pidfd_open", [pid], koffi.errno(), `pidfd_open ${pid}`);
  try {
    const r = syscall(SYS_pidfd_getfd, "int", Number(pidfd), "int", fd, "uint", 0);
    if (r < 0) {
      throw new SysError("pidfd_getfd", [pid, fd], koffi.errno(), `pidfd_getfd ${pid} fd ${fd}`);
    }
    return Number(r);
  } finally {
    fs.closeSync(Number(pidfd));
  }
}

/** TIOCSWINSZ: the terminal size the process sees (it gets SIGWINCH). */
export function setWindowSize(fd, cols, rows) {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  call("TIOCSWINSZ", [cols, rows], fd, TIOCSWINSZ, ws);
}

/** TIOCGWINSZ. */
export function getWindowSize(fd) {
  const ws = new Uint16Array(4);
  call("TIOCGWINSZ", [], fd, TIOCGWINSZ, ws);
  return { rows: ws[0], cols: ws[1] };
}
