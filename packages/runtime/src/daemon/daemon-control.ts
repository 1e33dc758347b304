import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { daemonPaths, isDaemonProcess, runningDaemonPid } from "./daemon-files.ts";
import { EngineClient, EngineUnavailableError } from "./engine-client.ts";

const DAEMON_SCRIPT = fileURLToPath(new URL("./daemon-main.ts", import.meta.url));

/** Where a host's engine daemon lives and how it is configured; passed in by the caller. */
export interface DaemonSettings {
  /** The runtime's durable root (containers, logs). */
  root: string;
  /** The runtime's volatile root: the socket and pid file live here. */
  runRoot: string;
  /** engine.log is written here. */
  logDir: string;
  cgroupParent?: string;
  /** The bridge bridge-mode containers join and its IPv4 subnet (RuntimeConfig's defaults else). */
  bridgeName?: string;
  subnet?: string;
  poolSize?: number;
}

export interface DaemonStatus {
  running: boolean;
  pid?: number;
  socket: string;
  logFile: string;
}

/** Whether the daemon runs, from its pid file (checked against /proc) and socket. */
export function daemonStatus(settings: DaemonSettings): DaemonStatus {
  const paths = daemonPaths(settings.runRoot, settings.logDir);
  const pid = runningDaemonPid(paths.pidFile);
  return {
    running: pid !== null && fs.existsSync(paths.socket),
    ...(pid !== null ? { pid } : {}),
    socket: paths.socket,
    logFile: paths.logFile,
  };
}

/**
 * Starts `berth-engined` detached (its own session, stdout/stderr appended to engine.log), through
 * Node with the tsx loader like the CLI, and waits until it answers on its socket. Harmless when it
 * already runs.
 */
export async function startDaemon(
  settings: DaemonSettings,
  timeoutMs = 20_000,
): Promise<{ pid: number; alreadyRunning: boolean }> {
  const paths = daemonPaths(settings.runRoot, settings.logDir);
  const client = new EngineClient(paths.socket);
  const existing = runningDaemonPid(paths.pidFile);
  if (existing !== null) {
    const ping = await client.ping().catch(() => undefined);
    if (ping) return { pid: ping.pid, alreadyRunning: true };
  }
  fs.mkdirSync(settings.logDir, { recursive: true, mode: 0o755 });
  const logFd = fs.openSync(paths.logFile, "a", 0o640);
  const args = [
    "--import",
    import.meta.resolve("tsx"),
    DAEMON_SCRIPT,
    "--root",
    settings.root,
    "--run-root",
    settings.runRoot,
    ...(settings.cgroupParent ? ["--cgroup-parent", settings.cgroupParent] : []),
    ...(settings.bridgeName ? ["--bridge", settings.bridgeName] : []),
    ...(settings.subnet ? ["--subnet", settings.subnet] : []),
    ...(settings.poolSize !== undefined ? ["--pool-size", String(settings.poolSize)] : []),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", logFd, logFd],
    cwd: "/",
  });
  fs.closeSync(logFd);
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ping = await client.ping().catch((e: unknown) => {
      if (e instanceof EngineUnavailableError) return undefined;
      throw e;
    });
    if (ping) return { pid: ping.pid, alreadyRunning: ping.pid !== child.pid };
    if (exited !== undefined) {
      // Lost a race with another starter: that daemon is the one to use.
      const other = runningDaemonPid(paths.pidFile);
      if (other === null) {
        throw new Error(
          `the engine daemon exited at start (code ${exited}); see ${paths.logFile}:\n${tail(paths.logFile)}`,
        );
      }
    }
    await sleep(25);
  }
  throw new Error(`the engine daemon did not answer within ${timeoutMs} ms; see ${paths.logFile}`);
}

/**
 * Stops the daemon by the pid in its pid file: SIGTERM, then SIGKILL after `timeoutMs`. Running
 * containers keep running (like dockerd's live-restore); the next daemon adopts them.
 */
export async function stopDaemon(
  settings: Pick<DaemonSettings, "runRoot">,
  timeoutMs = 10_000,
): Promise<{ wasRunning: boolean; pid?: number }> {
  const paths = daemonPaths(settings.runRoot, "/dev/null");
  const pid = runningDaemonPid(paths.pidFile);
  if (pid === null) return { wasRunning: false };
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (isDaemonProcess(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      while (isDaemonProcess(pid)) await sleep(10);
      fs.rmSync(paths.pidFile, { force: true });
      fs.rmSync(paths.socket, { force: true });
      break;
    }
    await sleep(10);
  }
  return { wasRunning: true, pid };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-6).join("\n");
  } catch {
    return "";
  }
}

/** A client of the host's engine daemon, started first if it is not running. */
export async function connectEngine(settings: DaemonSettings): Promise<EngineClient> {
  await startDaemon(settings);
  return new EngineClient(daemonPaths(settings.runRoot, settings.logDir).socket);
}
