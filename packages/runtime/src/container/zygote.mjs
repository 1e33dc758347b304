// A zygote: a Node process the engine spawns in advance, which turns itself into a container's
// process by running a plan (start-plan.ts, exec-plan.ts) on its own main thread through koffi and
// execs it. One script, two modes (argv[2]):
// - "start" (default): a warm zygote of the pool (engine/zygote-pool.ts), PID 1 of a fresh PID
//   namespace; the plan builds the container and execs its init.
// - "exec": spawned for one `exec` with the container's PID namespace as its pid_for_children and
//   the session's stdio (pipes, or a pty slave of the container's devpts) as fds 0-2; the plan
//   joins the container's other namespaces and execs the command.
// Protocol on fd 3 (a socket): zygote → "ready\n"; engine → one JSON job line; with `job.console`
// (run -t) the zygote, after `setup`, sends {console: fd} — the pty master it opened in the
// container's devpts — and waits for one line from the engine, which has taken the fd by then
// (pidfd_getfd). Then nothing (the fd is close-on-exec, so EOF means the exec happened) or one
// JSON line {error} / {notFound}.
// Only synchronous fs calls: after unshare(CLONE_NEWNS) / setns libuv's pool threads are in the
// wrong mount namespace.
import fs from "node:fs";
import { linuxSyscalls as sys } from "../sys/linux.mjs";
import { runPlan } from "./run-plan.mjs";

const MODES = {
  start: {
    setupExit: 125,
    // The command-not-found line goes to the container's stderr, which the logs capture, and the
    // status to the exit-status file the init would have written.
    stderr: (saved) => saved.stderr ?? saved.tty,
    status: (saved) => saved.status,
  },
  // The session's stderr (the terminal with -t); the engine sees the exit code itself.
  exec: { setupExit: 126, stderr: () => 2, status: () => undefined },
};
const modeName = process.argv[2] ?? "start";
const mode = MODES[modeName];
if (!mode) throw new Error(`unknown zygote mode ${modeName}`);

// Node ignores SIGPIPE and SIGXFSZ, and ignored signals survive execve (and the init shell passes
// them on to the app); handled ones are reset to the default. A listener makes them handled.
for (const signal of ["SIGPIPE", "SIGXFSZ"]) process.on(signal, () => {});

const F_DUPFD_CLOEXEC = 1030;
const ctl = sys.fcntl(3, F_DUPFD_CLOEXEC, 10);
sys.close(3);

function send(message) {
  fs.writeSync(ctl, `${JSON.stringify(message)}\n`);
}

let pending = Buffer.alloc(0);
/** One line from the engine; exits quietly if the engine went away first. */
function readLine() {
  const buf = Buffer.alloc(65536);
  for (;;) {
    const nl = pending.indexOf(10);
    if (nl >= 0) {
      const line = pending.subarray(0, nl).toString();
      pending = pending.subarray(nl + 1);
      return line;
    }
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
    if (n === 0) process.exit(0);
    pending = Buffer.concat([pending, buf.subarray(0, n)]);
  }
}

function failure(e) {
  return {
    message: String(e?.message ?? e),
    call: e?.call ?? `${modeName}-zygote`,
    args: e?.args ?? [],
    errno: e?.errno ?? 0,
    errnoName: e?.errnoName ?? "EUNKNOWN",
    step: e?.step ?? -1,
    phase: e?.phase ?? "setup",
  };
}

fs.writeSync(ctl, "ready\n");
const job = JSON.parse(readLine());
let saved = {};
try {
  saved = runPlan(sys, job.setup);
} catch (e) {
  send({ error: failure(e) });
  process.exit(mode.setupExit);
}
if (job.console) {
  // The engine copies the master out of this process, then answers; the pty stays allocated
  // meanwhile because this process holds both ends.
  send({ console: saved[job.console] });
  readLine();
  sys.close(saved[job.console]);
}
try {
  saved.exe = sys.lookPath(job.command, job.pathVar);
} catch (e) {
  // Like a shell: exit 127 and say so on the process's stderr.
  const line = `berth: ${e?.message?.replace(/ failed: .*$/, "") ?? "command not found"}\n`;
  try {
    fs.writeSync(mode.stderr(saved), line);
    const status = mode.status(saved);
    if (status !== undefined) fs.writeSync(status, "127\n");
  } catch {
    // the stderr may be gone
  }
  send({ notFound: line.trim() });
  process.exit(127);
}
try {
  runPlan(sys, job.finish, saved);
  throw new Error("execve returned");
} catch (e) {
  if (e && typeof e === "object") e.phase = "finish";
  send({ error: failure(e) });
  process.exit(126);
}
