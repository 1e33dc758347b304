import fs from "node:fs";
import path from "node:path";

/** Where one host's engine daemon keeps its socket, pid file and log. */
export interface DaemonPaths {
  socket: string;
  pidFile: string;
  logFile: string;
}

/** `<runRoot>/engine.sock`, `<runRoot>/engine.pid`, `<logDir>/engine.log`. */
export function daemonPaths(runRoot: string, logDir: string): DaemonPaths {
  return {
    socket: path.join(runRoot, "engine.sock"),
    pidFile: path.join(runRoot, "engine.pid"),
    logFile: path.join(logDir, "engine.log"),
  };
}

/** The process title the daemon sets, so that a pid read from the pid file can be checked. */
export const DAEMON_TITLE = "berth-engined";

/** Writes the pid file atomically: a temp file, fsync, rename. */
export function writePidFile(file: string, pid: number): void {
  const tmp = `${file}.tmp-${pid}`;
  const fd = fs.openSync(tmp, "w", 0o644);
  try {
    fs.writeSync(fd, `${pid}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The pid in the file when that process is alive and is an engine daemon; null otherwise. */
export function runningDaemonPid(file: string): number | null {
  let pid: number;
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    if (!/^\d+$/.test(text)) return null;
    pid = Number(text);
  } catch {
    return null;
  }
  return isDaemonProcess(pid) ? pid : null;
}

/** Whether `pid` is a live (not zombie) engine daemon, by its command line. */
export function isDaemonProcess(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith(DAEMON_TITLE);
  } catch {
    return false;
  }
}
