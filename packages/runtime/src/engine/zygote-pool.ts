import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { CLONE } from "../sys/constants.ts";
import type { Syscalls } from "../sys/syscalls.ts";

const ZYGOTE_SCRIPT = fileURLToPath(new URL("../container/zygote.mjs", import.meta.url));

/** How a zygote's job ended, as seen on its control socket. */
export type ZygoteOutcome =
  | { kind: "exec" }
  | { kind: "notFound"; message: string }
  | {
      kind: "error";
      error: {
        message: string;
        call: string;
        args: unknown[];
        errno: number;
        errnoName: string;
        step: number;
        /** Which part of the plan failed: `setup` or `finish`. */
        phase?: "setup" | "finish";
      };
    };

/** One warm zygote: PID 1 of its own PID namespace, waiting for a job. */
export class Zygote {
  readonly ready: Promise<void>;
  /** Resolves once, when the job either exec'd the init or failed. */
  readonly outcome: Promise<ZygoteOutcome>;
  /** Resolves when the process (zygote, later the container's init) exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The pool's preparation (its own cgroup), done while the zygote waits. */
  prepared: Promise<void> = Promise.resolve();
  private stderr = "";

  constructor(readonly child: ChildProcess) {
    const ctl = child.stdio[3] as Socket;
    let buffered = "";
    let sawReady = false;
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.ready.catch(() => {});
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
    this.outcome = new Promise((resolve) => {
      let message: ZygoteOutcome | undefined;
      ctl.on("data", (d: Buffer) => {
        buffered += d.toString();
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!sawReady && line === "ready") {
            sawReady = true;
            resolveReady();
          } else if (line !== "") {
            const parsed = JSON.parse(line);
            if (typeof parsed.console === "number") {
              this.consoleListener?.(parsed.console);
              continue;
            }
            message = parsed.notFound
              ? { kind: "notFound", message: parsed.notFound }
              : { kind: "error", error: parsed.error };
          }
        }
      });
      ctl.on("error", () => {});
      ctl.on("close", () => {
        if (!sawReady) rejectReady(new Error(`zygote died while booting: ${this.stderr.trim()}`));
        resolve(message ?? { kind: "exec" });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends the job (one JSON line); the zygote acts on it at once. */
  send(job: unknown): void {
    (this.child.stdio[3] as Socket).end(`${JSON.stringify(job)}\n`);
  }

  private consoleListener: ((fd: number) => void) | undefined;

  /**
   * Sends a job with a console (run -t): `take` gets the zygote's fd number of the pty master it
   * opened in the container's devpts once its setup is done; when `take` returns, the zygote is
   * told to go on (see zygote.mjs).
   */
  sendWithConsole(job: unknown, take: (fd: number) => void): void {
    const ctl = this.child.stdio[3] as Socket;
    this.consoleListener = (fd) => {
      this.consoleListener = undefined;
      try {
        take(fd);
      } finally {
        ctl.end("go\n");
      }
    };
    ctl.write(`${JSON.stringify(job)}\n`);
  }

  /** Node-level output of the zygote before exec (a crash before the plan ran). */
  diagnostics(): string {
    return this.stderr;
  }

  /** Stops this process from keeping the engine's event loop alive (the container lives on). */
  detach(): void {
    this.child.unref();
    (this.child.stdio[2] as Socket | null)?.unref?.();
    (this.child.stdio[3] as Socket | null)?.unref?.();
  }

  /** Ends an unused zygote. */
  discard(): void {
    this.child.kill("SIGKILL");
  }
}

/**
 * Keeps `size` zygotes booted so that Node's ~120 ms start-up stays off the start path. Each is
 * spawned right after unshare(CLONE_NEWPID) on this (the main) thread, so it is PID 1 of a new PID
 * namespace; setns back to the host's PID namespace re-arms the thread for the next one (a second
 * unshare(NEWPID) fails with EINVAL while pid_for_children differs from the active namespace).
 * unshare, spawn's fork and setns run in one synchronous turn, so no other spawn of this process
 * can land in the container's namespace.
 */
export class ZygotePool {
  private readonly idle: Zygote[] = [];
  private readonly hostPidNs: number;
  private closed = false;

  /**
   * `hooks.prepare` runs for each new zygote while it waits (the engine moves it into a cgroup of
   * its own: moving a multi-threaded process between v1 cgroups costs ~10 ms, which this takes off
   * the start path); `hooks.release` undoes it for a zygote that is discarded unused.
   */
  constructor(
    private readonly sys: Syscalls,
    private readonly size = 2,
    private readonly hooks: {
      prepare?: (z: Zygote) => Promise<void>;
      release?: (z: Zygote) => Promise<void>;
    } = {},
    private readonly nodePath = process.execPath,
  ) {
    this.hostPidNs = fs.openSync("/proc/thread-self/ns/pid", "r");
    this.refill();
  }

  private spawnOne(): Zygote {
    this.sys.unshare(CLONE.NEWPID);
    let child: ChildProcess;
    try {
      child = spawn(this.nodePath, ["--max-old-space-size=64", ZYGOTE_SCRIPT], {
        stdio: ["ignore", "ignore", "pipe", "pipe"],
        // setsid: the container must not share the engine's process group or terminal.
        detached: true,
      });
    } finally {
      this.sys.setns(this.hostPidNs, CLONE.NEWPID);
    }
    const zygote = new Zygote(child);
    zygote.prepared = this.hooks.prepare?.(zygote) ?? Promise.resolve();
    zygote.prepared.catch(() => {});
    return zygote;
  }

  /**
   * Boots zygotes up to the pool size. The engine calls this after a start completes, not during
   * it: a booting Node process takes a whole CPU for ~120 ms and would slow the start it replaces.
   */
  refill(): void {
    while (!this.closed && this.idle.length < this.size) this.idle.push(this.spawnOne());
  }

  /** A booted zygote, taken out of the pool (call refill() once it is no longer hurrying). */
  async take(): Promise<Zygote> {
    const zygote = this.idle.shift() ?? this.spawnOne();
    await zygote.ready;
    return zygote;
  }

  /** Waits until every pooled zygote has booted (benchmarks, tests). */
  async warm(): Promise<void> {
    this.refill();
    await Promise.all(this.idle.map((z) => z.ready));
  }

  /** Kills the idle zygotes and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    for (const z of idle) z.discard();
    await Promise.all(idle.map((z) => z.exited));
    await Promise.all(
      idle.map((z) => z.prepared.then(() => this.hooks.release?.(z)).catch(() => {})),
    );
    fs.closeSync(this.hostPidNs);
  }
}
