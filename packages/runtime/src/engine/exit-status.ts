import fs from "node:fs";
import { constants as osConstants } from "node:os";

/** Signal numbers to names (9 → "SIGKILL"). */
export const SIGNAL_NAMES = Object.fromEntries(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name]),
) as Record<number, string>;

/** How the init ended as its parent saw it (null/null when it was not our child). */
export interface InitExit {
  code: number | null;
  signal: string | null;
}

/**
 * The container's exit code and signal: the status file the init wrote (the app's status; 128+N
 * for a signal) first, else the init's own wait status, else 255 (nothing known).
 */
export function containerExit(
  exitStatusFile: string,
  how: InitExit,
): { exitCode: number; signal: string | null } {
  const written = readExitStatus(exitStatusFile);
  if (written !== null) {
    const name = written > 128 ? SIGNAL_NAMES[written - 128] : undefined;
    return { exitCode: written, signal: name ?? null };
  }
  if (how.signal) {
    const n = osConstants.signals[how.signal as NodeJS.Signals] ?? 0;
    return { exitCode: 128 + n, signal: how.signal };
  }
  return { exitCode: how.code ?? 255, signal: null };
}

/** The number the init wrote to the status file, or null if it wrote none (or garbage). */
export function readExitStatus(file: string): number | null {
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}
