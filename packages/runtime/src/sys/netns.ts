// The kernel calls behind persistent network namespaces (network/netns.ts). Kept apart from the
// shared seam (linux.mjs) so the network work could proceed in parallel; it may be folded in later.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import koffi from "koffi";
import { SyscallError } from "../errors.ts";
import { CLONE, MNT_DETACH, MS } from "./constants.ts";

/** The two calls network/netns.ts needs; a fake in unit tests, the kernel through koffi here. */
export interface NetnsSyscalls {
  /** Creates a new network namespace and bind-mounts it onto `path` (an existing file). */
  pinNewNetns(path: string): Promise<void>;
  /** umount2(path, MNT_DETACH): unpins the namespace; the kernel frees it with its last user. */
  unpinNetns(path: string): void;
}

const ERRNO_NAMES = new Map(Object.entries(koffi.os.errno).map(([name, value]) => [value, name]));
const errnoName = (errno: number) => ERRNO_NAMES.get(errno) ?? `errno ${errno}`;

// Namespaces are per thread, so the unshare happens on a throwaway worker: the main thread never
// leaves the host's namespace. The worker is plain CommonJS given as a string because it must run
// without a TypeScript loader (vitest and tsx do not transform worker code).
const PIN_WORKER = `
const { workerData: d, parentPort } = require("node:worker_threads");
const koffi = require(d.koffiPath);
const libc = koffi.load("libc.so.6");
const unshare = libc.func("int unshare(int)");
const mount = libc.func("int mount(const char *, const char *, const char *, unsigned long, const char *)");
if (unshare(d.cloneNewnet) !== 0) {
  parentPort.postMessage({ call: "unshare", args: ["CLONE_NEWNET"], errno: koffi.errno() });
} else if (mount("/proc/thread-self/ns/net", d.path, null, d.msBind, null) !== 0) {
  parentPort.postMessage({ call: "mount", args: ["/proc/thread-self/ns/net", d.path, null, "MS_BIND", null], errno: koffi.errno() });
} else {
  parentPort.postMessage({ ok: true });
}
`;

const PIN_TIMEOUT_MS = 10_000;

interface PinReply {
  ok?: true;
  call?: string;
  args?: unknown[];
  errno?: number;
}

let libc: { umount2: (target: string, flags: number) => number } | undefined;

function loadLibc() {
  if (!libc) {
    const lib = koffi.load("libc.so.6");
    libc = { umount2: lib.func("int umount2(const char *, int)") };
  }
  return libc;
}

/** The real implementation: a worker thread per namespace, umount2 on the calling thread. */
export const linuxNetnsSyscalls: NetnsSyscalls = {
  pinNewNetns(path) {
    const koffiPath = createRequire(import.meta.url).resolve("koffi");
    const worker = new Worker(PIN_WORKER, {
      eval: true,
      workerData: { koffiPath, path, cloneNewnet: CLONE.NEWNET, msBind: MS.BIND },
    });
    return new Promise<void>((resolve, reject) => {
      let reply: PinReply | undefined;
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(
          new SyscallError("unshare", ["CLONE_NEWNET"], 0, "ETIMEDOUT", `pin netns on ${path}`),
        );
      }, PIN_TIMEOUT_MS);
      worker.once("message", (m: PinReply) => {
        reply = m;
      });
      worker.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      // Settle on exit, not on the message: the namespace must be pinned and the thread gone.
      worker.once("exit", () => {
        clearTimeout(timer);
        if (reply?.ok) return resolve();
        const errno = reply?.errno ?? 0;
        const call = reply?.call ?? "unshare";
        const what =
          call === "mount"
            ? `bind mount of a new network namespace on ${path}`
            : "unshare(CLONE_NEWNET)";
        reject(new SyscallError(call, reply?.args ?? [], errno, errnoName(errno), what));
      });
    });
  },

  unpinNetns(path) {
    if (loadLibc().umount2(path, MNT_DETACH) !== 0) {
      const errno = koffi.errno();
      throw new SyscallError("umount2", [path, "MNT_DETACH"], errno, errnoName(errno));
    }
  },
};
