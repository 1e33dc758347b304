import { setTimeout as sleep } from "node:timers/promises";
import { ManagedPostgresError } from "../errors.ts";
import { readLogTail } from "./log-tail.ts";
import type { ResolvedOptions } from "./options.ts";
import { isPostmasterOf, isProcessLive, readRunningPostmaster } from "./postmaster-pid.ts";

/** What stop() did. */
export interface StopResult {
  /** false when no server was running. */
  wasRunning: boolean;
  pid: number | undefined;
}

const POLL_MS = 10;

/**
 * Fast shutdown, keeping the data: SIGINT to the postmaster is exactly what `pg_ctl stop -m fast`
 * sends; sending it directly spares a process and pg_ctl's 100 ms polling. Waits until it exits.
 */
export async function stopCluster(options: ResolvedOptions): Promise<StopResult> {
  const running = await readRunningPostmaster(options.dataDir);
  if (running === undefined) return { wasRunning: false, pid: undefined };
  try {
    process.kill(running.pid, "SIGINT");
  } catch {
    // Exited between the check and the signal: that is stopped too.
  }
  const deadline = Date.now() + options.timeoutMs;
  // Wait for the process itself, not only for it to leave the data directory: `berth down` promises
  // that no Berth process is left when it returns.
  while (
    (await isPostmasterOf(running.pid, options.dataDir)) ||
    (await isProcessLive(running.pid))
  ) {
    if (Date.now() > deadline) {
      throw new ManagedPostgresError(
        "STOP_FAILED",
        `the server (pid ${running.pid}) did not exit within ${options.timeoutMs} ms`,
        {
          action: "stop managed Postgres",
          path: options.dataDir,
          hint: `Sessions may be blocking a fast shutdown; an immediate one is: kill -QUIT ${running.pid}`,
          logTail: await readLogTail(options.logFile),
        },
      );
    }
    await sleep(POLL_MS);
  }
  return { wasRunning: true, pid: running.pid };
}
