import { readFile, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";

/** The lines of postmaster.pid that Berth uses (see Postgres' miscadmin.h, LOCK_FILE_LINE_*). */
export interface PostmasterPid {
  pid: number;
  dataDir: string;
  port: number;
  socketDir: string;
  listenAddress: string;
  /** "starting", "ready", "stopping" or "standby"; empty while very early in startup. */
  status: string;
}

/** Parses postmaster.pid, or returns undefined for a truncated or foreign file. */
export function parsePostmasterPid(text: string): PostmasterPid | undefined {
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || lines.length < 4) return undefined;
  return {
    pid,
    dataDir: lines[1] ?? "",
    port: Number.isInteger(port) ? port : 0,
    socketDir: lines[4] ?? "",
    listenAddress: lines[5] ?? "",
    status: (lines[7] ?? "").trim(),
  };
}

/**
 * True when `pid` is a live process running in `dataDir`. Postgres chdirs into its data directory,
 * so this tells a real postmaster from a stale pid file whose pid was reused after a reboot.
 * Zombies have no cwd link, so a server that exited but was not reaped yet counts as stopped.
 */
export async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  try {
    const [cwd, expected] = await Promise.all([readlink(`/proc/${pid}/cwd`), realpath(dataDir)]);
    return cwd === expected;
  } catch {
    return false;
  }
}

/**
 * True while `pid` still exists and is not a zombie. A postmaster that has released its working
 * directory is still exiting (closing files, freeing memory) until this turns false.
 */
export async function isProcessLive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the parenthesised command name, which may itself hold spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The running postmaster of `dataDir`, or undefined when none is running. */
export async function readRunningPostmaster(dataDir: string): Promise<PostmasterPid | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return undefined;
  }
  const parsed = parsePostmasterPid(text);
  if (parsed === undefined) return undefined;
  return (await isPostmasterOf(parsed.pid, dataDir)) ? parsed : undefined;
}
