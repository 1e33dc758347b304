import { type ChildProcess, spawn } from "node:child_process";
import { chown, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describeCause, hasErrno, ManagedPostgresError } from "../errors.ts";
import { halfInitialisedError, inspectDataDir } from "./data-directory.ts";
import { readLogTail } from "./log-tail.ts";
import type { ResolvedOptions } from "./options.ts";
import { lookupOsUser, type OsUser } from "./os-user.ts";
import { findPgBinaries } from "./pg-binaries.ts";
import { assertPortFree } from "./port-check.ts";
import { writeServerConfig } from "./postgres-config.ts";
import { parsePostmasterPid, readRunningPostmaster } from "./postmaster-pid.ts";
import { canWriteAs, spawnOptionsFor } from "./run-as-user.ts";

/** Where a started server can be reached. */
export interface StartResult {
  pid: number;
  port: number;
  socketDir: string;
  /** true when the server was already running and start() did nothing. */
  alreadyRunning: boolean;
}

const ACTION = "start managed Postgres";
const POLL_MS = 10;

/** Starts the server of an initialised data directory and waits until it accepts connections. */
export async function startCluster(options: ResolvedOptions): Promise<StartResult> {
  const { dataDir } = options;
  const state = await inspectDataDir(dataDir);
  if (state.kind === "half-initialised") throw halfInitialisedError(dataDir, state.reason, ACTION);
  if (state.kind !== "initialised") {
    throw new ManagedPostgresError("NOT_INITIALISED", "the data directory holds no cluster", {
      action: ACTION,
      path: dataDir,
      hint: "Run init() first (`berth up` does both).",
    });
  }

  const running = await readRunningPostmaster(dataDir);
  if (running !== undefined) return waitUntilReady(options, running.pid, undefined, 0);

  const binaries = await findPgBinaries(options.binariesRoot, state.major);
  await assertPortFree(options.port);
  const user = await lookupOsUser(options.osUser);
  await writeServerConfig(
    dataDir,
    { port: options.port, socketDir: options.socketDir, durable: options.durable },
    user,
  );
  await prepareSocketDir(options.socketDir, user);
  await removeStalePidFile(dataDir);

  // The postmaster is spawned directly, detached in its own session, rather than through
  // `pg_ctl start -w`: pg_ctl builds a shell command line and polls every 100 ms, while this
  // needs no shell and notices readiness within 10 ms. Its stderr goes to the log file.
  const log = await openLogFile(options.logFile, user);
  let child: ChildProcess;
  try {
    child = spawn(binaries.postgres, ["-D", dataDir], {
      ...spawnOptionsFor(user),
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
    });
  } finally {
    await log.handle.close();
  }
  return waitUntilReady(options, child.pid, child, log.offset);
}

/**
 * Polls postmaster.pid until it says "ready". A child that exits first, or a server that does not
 * become ready in time, is a START_FAILED carrying the new lines of the log.
 */
async function waitUntilReady(
  options: ResolvedOptions,
  pid: number | undefined,
  child: ChildProcess | undefined,
  logOffset: number,
): Promise<StartResult> {
  let exit: string | undefined;
  child?.once("exit", (code, signal) => {
    exit = signal === null ? `code ${code}` : `signal ${signal}`;
  });
  child?.once("error", (error) => {
    exit = `a spawn error (${describeCause(error)})`;
  });
  const failed = async (problem: string, hint: string) =>
    new ManagedPostgresError("START_FAILED", problem, {
      action: ACTION,
      path: options.dataDir,
      port: options.port,
      hint: `${hint} Full log: ${options.logFile}`,
      logTail: await readLogTail(options.logFile, logOffset),
    });

  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (exit !== undefined) {
      // Lost a race with another starter of the same cluster? Then its server is the answer.
      const other = await readRunningPostmaster(options.dataDir);
      if (other !== undefined && other.pid !== pid) {
        return waitUntilReady(options, other.pid, undefined, logOffset);
      }
      throw await failed(
        `the server exited with ${exit} before it was ready`,
        "See the log lines below.",
      );
    }
    const pidFile = await readFile(join(options.dataDir, "postmaster.pid"), "utf8").catch(() => "");
    const parsed = parsePostmasterPid(pidFile);
    if (parsed !== undefined && parsed.pid === pid && parsed.status === "ready") {
      child?.removeAllListeners("exit");
      child?.unref();
      return {
        pid: parsed.pid,
        port: parsed.port,
        socketDir: parsed.socketDir,
        alreadyRunning: child === undefined,
      };
    }
    if (child === undefined && (await readRunningPostmaster(options.dataDir)) === undefined) {
      throw await failed("the running server stopped while Berth waited for it", "Start it again.");
    }
    if (Date.now() > deadline) {
      // Only a server this call spawned is stopped; one found running belongs to someone else.
      if (child?.pid !== undefined) process.kill(child.pid, "SIGINT");
      throw await failed(
        `the server was not ready after ${options.timeoutMs} ms`,
        "Check the log for recovery progress, or raise timeoutMs.",
      );
    }
    await sleep(POLL_MS);
  }
}

/**
 * Creates the socket directory owned by the OS user (in /run it vanishes at every reboot). An
 * existing directory is not re-owned, only checked: it might be shared, like /tmp.
 */
async function prepareSocketDir(socketDir: string, user: OsUser): Promise<void> {
  const notWritable = (problem: string, cause?: unknown) =>
    new ManagedPostgresError("SOCKET_DIR_NOT_WRITABLE", problem, {
      action: ACTION,
      path: socketDir,
      hint: `Choose a socket directory that OS user "${user.name}" can write to.`,
      cause,
    });
  let existed: boolean;
  try {
    existed = await stat(socketDir).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!existed) {
      await mkdir(dirname(socketDir), { recursive: true, mode: 0o755 });
      await mkdir(socketDir, { mode: 0o700 });
      await chown(socketDir, user.uid, user.gid);
    }
  } catch (error) {
    throw notWritable(`cannot create it (${describeCause(error)})`, error);
  }
  if (existed && !(await canWriteAs(user, socketDir))) {
    throw notWritable(`OS user "${user.name}" cannot create its socket there`);
  }
}

/**
 * Removes a postmaster.pid whose process is gone. Postgres would refuse to start if, after a
 * reboot, that pid now belongs to an unrelated process; readRunningPostmaster has already shown
 * it is no postmaster of this directory (a live postmaster always runs inside its data directory).
 */
async function removeStalePidFile(dataDir: string): Promise<void> {
  await unlink(join(dataDir, "postmaster.pid")).catch((error: unknown) => {
    if (!hasErrno(error, "ENOENT")) throw error;
  });
}

/** Opens the log for appending, owned by the OS user, and notes where this run's lines start. */
async function openLogFile(logFile: string, user: OsUser) {
  try {
    await mkdir(dirname(logFile), { recursive: true, mode: 0o755 });
    const handle = await open(logFile, "a", 0o640);
    await handle.chown(user.uid, user.gid);
    const { size } = await handle.stat();
    return { handle, fd: handle.fd, offset: size };
  } catch (error) {
    throw new ManagedPostgresError(
      "START_FAILED",
      `cannot open the log file (${describeCause(error)})`,
      {
        action: ACTION,
        path: logFile,
        hint: "Make its directory writable, or pass another logFile.",
        cause: error,
      },
    );
  }
}
