// Pseudo-terminal calls for exec -t and run -t (typed by pty.d.mts). Kept apart from linux.mjs,
// whose Syscalls seam is for what the zygote runs: these run in the engine only, on a master it
// holds. Each throws a SysError (linux.mjs) naming the call and the errno.
import fs from "node:fs";
import koffi from "koffi";
import { SysError } from "./linux.mjs";

const libc = koffi.load("libc.so.6");
const ioctlPtr = libc.func("int ioctl(int, unsigned long, ...)");

// <asm-generic/ioctls.h> (x86_64): _IOR('T', 0x30, unsigned int), _IOW('T', 0x31, int), _IO('T', 0x41).
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const O_RDWR = 2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;
/** /dev/ptmx and devpts' own ptmx node: character device 5:2. */
const PTMX_RDEV = (5 << 8) | 2;

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
  const master = fs.openSync(ptmxPath, O_RDWR | O_NOCTTY | O_CLOEXEC);
  try {
    const st = fs.fstatSync(master);
    if (!st.isCharacterDevice() || st.rdev !== PTMX_RDEV) {
      throw new SysError(
        "open",
        [ptmxPath],
        koffi.os.errno.ENODEV,
        `open ${ptmxPath} (not a ptmx device)`,
      );
    }
    call("TIOCSPTLCK", [0], master, TIOCSPTLCK, new Int32Array([0]));
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
  const r = ioctlPtr(master, TIOCGPTPEER, "int", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (r < 0)
    throw new SysError("ioctl", [master, "TIOCGPTPEER"], koffi.errno(), "ioctl TIOCGPTPEER");
  return r;
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
