import { type SpawnOptions, spawn } from "node:child_process";
import type { OsUser } from "./os-user.ts";

/** How a child process ended and what it printed. */
export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The child's identity and environment when running as `user`. Root switches to the user's
 * uid/gid (libuv also drops supplementary groups); a caller that already is that user runs as itself.
 */
export function spawnOptionsFor(user: OsUser): SpawnOptions {
  const switchUser = process.getuid?.() !== user.uid;
  return {
    ...(switchUser ? { uid: user.uid, gid: user.gid } : {}),
    // Postgres tools fail when they cannot read their working directory (root's cwd often is /root).
    cwd: "/",
    // A clean environment: root's PGPASSWORD, PGHOST or LC_* must not leak into the server's tools.
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: user.home,
      USER: user.name,
      LOGNAME: user.name,
    },
  };
}

/** Runs `argv` (never a shell string) as `user`, feeding `stdin`, and collects its output. */
export function runAsUser(
  user: OsUser,
  argv: readonly [string, ...string[]],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...spawnOptionsFor(user),
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs,
      killSignal: "SIGKILL",
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (exitCode, signal) =>
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      }),
    );
    // EPIPE when the child exits without reading stdin is not our failure; its exit code tells.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.stdin ?? "");
  });
}

/** The last `count` non-empty lines of a child's output, for error messages. */
export function lastLines(text: string, count = 15): string[] {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "")
    .slice(-count);
}

/** True when `user` can write to and enter `dir` (checks every parent's search permission too). */
export async function canWriteAs(user: OsUser, dir: string): Promise<boolean> {
  const result = await runAsUser(user, ["test", "-w", dir, "-a", "-x", dir]);
  return result.exitCode === 0;
}
