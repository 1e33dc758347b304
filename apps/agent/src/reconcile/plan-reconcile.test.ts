import { describe, expect, it } from "vitest";
import { BACKOFF, isCrashLooping, restartDelayMs } from "./crash-backoff.ts";
import type { DesiredDyno, ObservedDyno } from "./dyno.ts";
import { planReconcile, type ReconcileAction } from "./plan-reconcile.ts";

const T0 = Date.parse("2026-11-22T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function dyno(type: string, index: number, release: number): DesiredDyno {
  return {
    app: "shop",
    type,
    index,
    release,
    image: `shop:v${release}`,
    command: null,
    env: {},
    memoryBytes: 512 * 1024 * 1024,
    cpus: 0.5,
  };
}

function seen(
  type: string,
  index: number,
  release: number,
  status: ObservedDyno["status"],
  extra: Partial<ObservedDyno> = {},
): ObservedDyno {
  return {
    containerId: `${type}${index}v${release}${extra.startedAt ?? ""}`,
    app: "shop",
    type,
    index,
    release,
    status,
    healthy: status === "running",
    exitCode: status === "exited" ? 1 : null,
    startedAt: iso(T0 - 60_000),
    finishedAt: status === "exited" ? iso(T0 - 1_000) : null,
    ...extra,
  };
}

const kinds = (actions: ReconcileAction[]) =>
  actions.map((a) => `${a.kind} ${a.slot}${"containerId" in a ? ` ${a.containerId}` : ""}`).sort();

describe("planReconcile", () => {
  it("starts every wanted dyno on an empty host, and does nothing once they run", () => {
    const desired = [dyno("web", 1, 3), dyno("web", 2, 3), dyno("worker", 1, 3)];
    expect(kinds(planReconcile(desired, [], new Map(), T0).actions)).toEqual([
      "start shop/web.1",
      "start shop/web.2",
      "start shop/worker.1",
    ]);
    const running = [
      seen("web", 1, 3, "running"),
      seen("web", 2, 3, "running"),
      seen("worker", 1, 3, "running"),
    ];
    expect(planReconcile(desired, running, new Map(), T0).actions).toEqual([]);
  });

  it("scaling down stops the dynos no longer in the formation", () => {
    const observed = [
      seen("web", 1, 3, "running"),
      seen("web", 2, 3, "running"),
      seen("web", 3, 3, "exited"),
    ];
    expect(kinds(planReconcile([dyno("web", 1, 3)], observed, new Map(), T0).actions)).toEqual([
      "remove shop/web.3 web3v3",
      "stop shop/web.2 web2v3",
    ]);
  });

  it("web deploys start the new release first and stop the old only once the new passes its check", () => {
    const desired = [dyno("web", 1, 4)];
    const old = seen("web", 1, 3, "running");
    expect(kinds(planReconcile(desired, [old], new Map(), T0).actions)).toEqual([
      "start shop/web.1",
    ]);
    const booting = seen("web", 1, 4, "running", { healthy: false });
    expect(planReconcile(desired, [old, booting], new Map(), T0).actions).toEqual([]);
    const up = seen("web", 1, 4, "running");
    expect(kinds(planReconcile(desired, [old, up], new Map(), T0).actions)).toEqual([
      "stop shop/web.1 web1v3",
    ]);
  });

  it("workers stop the old release before the new one starts", () => {
    const desired = [dyno("worker", 1, 4)];
    const old = seen("worker", 1, 3, "running");
    expect(kinds(planReconcile(desired, [old], new Map(), T0).actions)).toEqual([
      "stop shop/worker.1 worker1v3",
    ]);
    expect(kinds(planReconcile(desired, [], new Map(), T0).actions)).toEqual([
      "start shop/worker.1",
    ]);
  });

  it("restarts a crashed dyno at once the first time, then backs off with growing delays", () => {
    const desired = [dyno("web", 1, 3)];
    let crashes = new Map();
    let now = T0;
    const delays: number[] = [];
    for (let round = 0; round < 8; round++) {
      const crashed = seen("web", 1, 3, "exited", {
        startedAt: iso(now - 2_000),
        finishedAt: iso(now - 1_000),
      });
      const plan = planReconcile(desired, [crashed], crashes, now);
      crashes = plan.crashes;
      const wait = plan.actions.find((a) => a.kind === "wait");
      expect(plan.actions.some((a) => a.kind === "remove")).toBe(true);
      delays.push(wait && wait.kind === "wait" ? wait.until - (now - 1_000) : 0);
      // Once the delay has passed, the slot is started again.
      const later = wait && wait.kind === "wait" ? wait.until : now;
      expect(kinds(planReconcile(desired, [], crashes, later).actions)).toEqual([
        "start shop/web.1",
      ]);
      now = later + 5_000;
    }
    expect(delays).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect(isCrashLooping(crashes.get("shop/web.1"))).toBe(true);
  });

  it("counts a crash once, however many rounds see the same exited container", () => {
    const desired = [dyno("web", 1, 3)];
    const crashed = seen("web", 1, 3, "exited");
    const first = planReconcile(desired, [crashed], new Map(), T0);
    const second = planReconcile(desired, [crashed], first.crashes, T0 + 100);
    expect(second.crashes.get("shop/web.1")?.crashes).toBe(1);
  });

  it("forgets the crash history of a dyno that has since run stably", () => {
    const desired = [dyno("web", 1, 3)];
    const history = new Map([
      ["shop/web.1", { crashes: 5, lastCrashAt: T0 - BACKOFF.stableMs - 1 }],
    ]);
    const stable = seen("web", 1, 3, "running", { startedAt: iso(T0 - BACKOFF.stableMs) });
    expect(planReconcile(desired, [stable], history, T0).crashes.has("shop/web.1")).toBe(false);
    const crashedAfterLongRun = seen("web", 1, 3, "exited", {
      startedAt: iso(T0 - BACKOFF.stableMs - 5_000),
      finishedAt: iso(T0 - 1_000),
    });
    const plan = planReconcile(desired, [crashedAfterLongRun], history, T0);
    expect(plan.crashes.get("shop/web.1")?.crashes).toBe(1);
    expect(kinds(plan.actions)).toContain("start shop/web.1");
  });

  it("removes duplicates and unfinished starts, keeping the newest running container", () => {
    const desired = [dyno("web", 1, 3)];
    const newer = seen("web", 1, 3, "running", { startedAt: iso(T0 - 1_000) });
    const older = seen("web", 1, 3, "running", { startedAt: iso(T0 - 9_000) });
    expect(kinds(planReconcile(desired, [older, newer], new Map(), T0).actions)).toEqual([
      `stop shop/web.1 ${older.containerId}`,
    ]);
    const created = seen("web", 1, 3, "created", { startedAt: null });
    expect(kinds(planReconcile(desired, [created], new Map(), T0).actions)).toEqual([
      `remove shop/web.1 ${created.containerId}`,
      "start shop/web.1",
    ]);
  });

  it("restart delays follow the documented curve", () => {
    expect([1, 2, 3, 4, 10].map(restartDelayMs)).toEqual([0, 10_000, 20_000, 40_000, 300_000]);
  });
});
