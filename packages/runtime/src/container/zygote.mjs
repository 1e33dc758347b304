// A warm zygote: a Node process spawned by the engine as PID 1 of a fresh PID namespace (see
// engine/zygote-pool.ts). It boots in advance, waits for one job on fd 3, turns itself into the
// container by running the start plan on its own main thread through koffi, and execs the init.
// Protocol on fd 3 (a socket): zygote → "ready\n"; engine → one JSON job line; zygote → nothing
// (the fd is close-on-exec, so EOF means the exec happened) or one JSON line {error} / {notFound}.
// Only synchronous fs calls: after unshare(CLONE_NEWNS) libuv's pool threads are in the wrong
// mount namespace.
import fs from "node:fs";
import { linuxSyscalls as sys } from "../sys/linux.mjs";
import { runPlan } from "./run-plan.mjs";

// Node ignores SIGPIPE and SIGXFSZ, and ignored signals survive execve (and the init shell passes
// them on to the app); handled ones are reset to the default. A listener makes them handled.
for (const signal of ["SIGPIPE", "SIGXFSZ"]) process.on(signal, () => {});

const F_DUPFD_CLOEXEC = 1030;
const ctl = sys.fcntl(3, F_DUPFD_CLOEXEC, 10);
sys.close(3);

function send(message) {
  fs.writeSync(ctl, `${JSON.stringify(message)}\n`);
}

function readJob() {
  const chunks = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n;
    try {
      n = fs.readSync(ctl, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      throw e;
    }
    if (n === 0) process.exit(0); // the engine went away before giving us a job
    chunks.push(Buffer.from(buf.subarray(0, n)));
    const all = Buffer.concat(chunks);
    const nl = all.indexOf(10);
    if (nl >= 0) return JSON.parse(all.subarray(0, nl).toString());
  }
}

function failure(e) {
  return {
    message: String(e?.message ?? e),
    call: e?.call ?? "zygote",
    args: e?.args ?? [],
    errno: e?.errno ?? 0,
    errnoName: e?.errnoName ?? "EUNKNOWN",
    step: e?.step ?? -1,
  };
}

fs.writeSync(ctl, "ready\n");
const job = readJob();
let saved = {};
try {
  saved = runPlan(sys, job.setup);
} catch (e) {
  send({ error: failure(e) });
  process.exit(125);
}
try {
  saved.exe = sys.lookPath(job.command, job.pathVar);
} catch (e) {
  // Like a shell: exit 127 and say so on the container's stderr, which the logs capture.
  const line = `berth: ${e?.message?.replace(/ failed: .*$/, "") ?? "command not found"}\n`;
  fs.writeSync(saved.stderr, line);
  fs.writeSync(saved.status, "127\n");
  send({ notFound: line.trim() });
  process.exit(127);
}
try {
  runPlan(sys, job.finish, saved);
  throw new Error("execve returned");
} catch (e) {
  send({ error: failure(e) });
  process.exit(126);
}
