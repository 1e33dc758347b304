import type { ContainerConfig } from "../image/oci-schemas.ts";

/** An image's HEALTHCHECK, with Docker's defaults filled in (times in milliseconds). */
export interface HealthcheckConfig {
  /** The argv run inside the container (CMD-SHELL becomes /bin/sh -c). */
  args: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

export interface HealthProbeResult {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

/** What `inspect` shows under State.Health, as Docker does. */
export interface HealthState {
  status: "starting" | "healthy" | "unhealthy";
  failingStreak: number;
  log: HealthProbeResult[];
}

const NS_PER_MS = 1_000_000;
const LOG_KEPT = 5;

/** The check an image config asks for; null for none (absent, or `HEALTHCHECK NONE`). */
export function healthcheckFrom(config: ContainerConfig | undefined): HealthcheckConfig | null {
  const hc = config?.Healthcheck;
  const test = hc?.Test ?? [];
  if (!hc || test.length === 0 || test[0] === "NONE") return null;
  const args =
    test[0] === "CMD-SHELL"
      ? ["/bin/sh", "-c", test.slice(1).join(" ")]
      : test[0] === "CMD"
        ? test.slice(1)
        : test;
  if (args.length === 0) return null;
  const ms = (ns: number | undefined, fallback: number) =>
    ns && ns > 0 ? Math.round(ns / NS_PER_MS) : fallback;
  return {
    args,
    intervalMs: ms(hc.Interval, 30_000),
    timeoutMs: ms(hc.Timeout, 30_000),
    startPeriodMs: ms(hc.StartPeriod, 0),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : 3,
  };
}

/** Runs one probe: the args in the container, their exit code and (first 4 KiB of) output. */
export type HealthProbe = (
  id: string,
  args: string[],
  timeoutMs: number,
) => Promise<{ exitCode: number; output: string }>;

/**
 * Docker's health state machine per running container: probes every interval; failures inside
 * the start period do not count (a success ends it early); `retries` failures in a row make the
 * container unhealthy, one success healthy again. Timers are unref'd: they never hold a process up.
 */
export class HealthMonitor {
  private readonly watched = new Map<
    string,
    { state: HealthState; timer: NodeJS.Timeout; stopped: boolean }
  >();

  constructor(private readonly probe: HealthProbe) {}

  watch(id: string, check: HealthcheckConfig, startedAtMs = Date.now()): void {
    this.unwatch(id);
    const entry = {
      state: { status: "starting", failingStreak: 0, log: [] } as HealthState,
      timer: undefined as unknown as NodeJS.Timeout,
      stopped: false,
    };
    const tick = async () => {
      const start = new Date();
      let result: { exitCode: number; output: string };
      try {
        result = await this.probe(id, check.args, check.timeoutMs);
      } catch (e) {
        result = { exitCode: -1, output: (e as Error).message };
      }
      if (entry.stopped) return;
      const s = entry.state;
      s.log = [
        ...s.log,
        { start: start.toISOString(), end: new Date().toISOString(), ...result },
      ].slice(-LOG_KEPT);
      const inStartPeriod = Date.now() - startedAtMs < check.startPeriodMs;
      if (result.exitCode === 0) {
        s.status = "healthy";
        s.failingStreak = 0;
      } else if (!(inStartPeriod && s.status === "starting")) {
        s.failingStreak++;
        if (s.failingStreak >= check.retries) s.status = "unhealthy";
      }
      entry.timer = setTimeout(tick, check.intervalMs);
      entry.timer.unref();
    };
    entry.timer = setTimeout(tick, check.intervalMs);
    entry.timer.unref();
    this.watched.set(id, entry);
  }

  unwatch(id: string): void {
    const entry = this.watched.get(id);
    if (!entry) return;
    entry.stopped = true;
    clearTimeout(entry.timer);
    this.watched.delete(id);
  }

  state(id: string): HealthState | undefined {
    return this.watched.get(id)?.state;
  }

  close(): void {
    for (const id of [...this.watched.keys()]) this.unwatch(id);
  }
}
