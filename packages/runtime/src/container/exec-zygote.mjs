// An exec zygote: a Node process the engine spawns for one `exec`, with the container's PID
// namespace as its pid_for_children (so this process is already in it) and the session's stdio —
// pipes, or a pty slave of the container's devpts — as fds 0-2. It waits on fd 3 for its job (an
// exec plan, see exec-plan.ts), joins the container's other namespaces on its own main thread
// through koffi and execs the command. Protocol on fd 3, as for the start zygote: "ready\n", one
// JSON job line, then nothing (the fd is close-on-exec: EOF means the exec happened) or one JSON
// line {error} / {notFound}. Only synchronous fs calls once the mount namespace is joined.
import fs from "node:fs";
import { linuxSyscalls as sys } from "../sys/linux.mjs";
import { runPlan } from "./run-plan.mjs";

// Node ignores SIGPIPE and SIGXFSZ, and ignored signals survive execve; handled ones are reset to
// the default. A listener makes them handled, so the command starts with the default dispositions.
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
    call: e?.call ?? "exec-zygote",
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
  process.exit(126);
}
try {
  saved.exe = sys.lookPath(job.command, job.pathVar);
} catch (e) {
  // Like a shell: exit 127 and say so on the session's stderr (the terminal with -t).
  const line = `berth: ${e?.message?.replace(/ failed: .*$/, "") ?? "command not found"}\n`;
  try {
    fs.writeSync(2, line);
  } catch {
    // the session's stderr may be gone
  }
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
