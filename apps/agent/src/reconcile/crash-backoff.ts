/**
 * Restart delays for a dyno that keeps crashing: the first crash restarts at once, then the delay
 * doubles from 10 s up to 5 minutes (Kubernetes' curve; Heroku's is coarser). A dyno that has run
 * for 10 minutes since its last start is considered healthy again and starts the curve over.
 */
export const BACKOFF = { firstMs: 10_000, maxMs: 5 * 60_000, stableMs: 10 * 60_000 } as const;

export interface CrashRecord {
  /** Crashes since the dyno last ran stably. */
  crashes: number;
  /** When the latest crash happened (ms since epoch). */
  lastCrashAt: number;
}

export function restartDelayMs(crashes: number): number {
  if (crashes <= 1) return 0;
  return Math.min(BACKOFF.firstMs * 2 ** (crashes - 2), BACKOFF.maxMs);
}

/**
 * The crash history after a container of this slot exited at `finishedAt`, having started at
 * `startedAt`: a long run clears the history before this crash counts.
 */
export function recordCrash(
  previous: CrashRecord | undefined,
  startedAt: number,
  finishedAt: number,
): CrashRecord {
  const ranStably = finishedAt - startedAt >= BACKOFF.stableMs;
  const crashes = (ranStably || !previous ? 0 : previous.crashes) + 1;
  return { crashes, lastCrashAt: finishedAt };
}

/** When a crashed slot may start again. */
export function nextStartAt(record: CrashRecord): number {
  return record.lastCrashAt + restartDelayMs(record.crashes);
}

/** A crash loop, as the dashboard and `ps` show it. */
export function isCrashLooping(record: CrashRecord | undefined): boolean {
  return (record?.crashes ?? 0) >= 3;
}
