import { describe, expect, it } from "vitest";
import { HealthMonitor, healthcheckFrom } from "./health-monitor.ts";

describe("healthcheckFrom", () => {
  it("reads CMD and CMD-SHELL with Docker's defaults, nanoseconds to milliseconds", () => {
    expect(healthcheckFrom({ Healthcheck: { Test: ["CMD-SHELL", "curl -f localhost"] } })).toEqual({
      args: ["/bin/sh", "-c", "curl -f localhost"],
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      retries: 3,
    });
    expect(
      healthcheckFrom({
        Healthcheck: { Test: ["CMD", "check", "-q"], Interval: 2e9, Timeout: 5e8, Retries: 5 },
      }),
    ).toMatchObject({ args: ["check", "-q"], intervalMs: 2000, timeoutMs: 500, retries: 5 });
  });
  it("is null for no check and HEALTHCHECK NONE", () => {
    expect(healthcheckFrom({})).toBeNull();
    expect(healthcheckFrom({ Healthcheck: { Test: ["NONE"] } })).toBeNull();
    expect(healthcheckFrom(undefined)).toBeNull();
  });
});

describe("HealthMonitor", () => {
  const check = { args: ["probe"], intervalMs: 5, timeoutMs: 100, startPeriodMs: 0, retries: 2 };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it("goes starting → healthy → unhealthy after `retries` failures in a row → healthy again", async () => {
    const results = [0, 1, 1, 0];
    let calls = 0;
    const m = new HealthMonitor(async () => ({
      exitCode: results[Math.min(calls++, 3)] as number,
      output: "",
    }));
    m.watch("c", check);
    expect(m.state("c")?.status).toBe("starting");
    await until(() => calls >= 1 && m.state("c")?.status === "healthy");
    expect(m.state("c")?.status).toBe("healthy");
    await until(() => m.state("c")?.status === "unhealthy");
    expect(m.state("c")).toMatchObject({ status: "unhealthy", failingStreak: 2 });
    await until(() => m.state("c")?.status === "healthy");
    expect(m.state("c")?.failingStreak).toBe(0);
    expect(m.state("c")?.log.length).toBeLessThanOrEqual(5);
    m.close();
    expect(m.state("c")).toBeUndefined();
  });

  it("does not count failures in the start period", async () => {
    let calls = 0;
    const m = new HealthMonitor(async () => {
      calls++;
      return { exitCode: 1, output: "not yet" };
    });
    m.watch("c", { ...check, startPeriodMs: 60_000 });
    await until(() => calls >= 4);
    expect(m.state("c")).toMatchObject({ status: "starting", failingStreak: 0 });
    m.unwatch("c");
  });
});
