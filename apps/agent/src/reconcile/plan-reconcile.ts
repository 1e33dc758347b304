import { BACKOFF, type CrashRecord, nextStartAt, recordCrash } from "./crash-backoff.ts";
import { type DesiredDyno, type ObservedDyno, slotOf } from "./dyno.ts";

export type { DesiredDyno, ObservedDyno } from "./dyno.ts";

export type ReconcileAction =
  | { kind: "start"; slot: string; dyno: DesiredDyno }
  /** Graceful: the stop signal, then SIGKILL after the grace period; then the container is removed. */
  | { kind: "stop"; slot: string; containerId: string; reason: string }
  | { kind: "remove"; slot: string; containerId: string; reason: string }
  /** A crashed dyno held back by its back-off until `until`. */
  | { kind: "wait"; slot: string; until: number; crashes: number };

export interface ReconcilePlan {
  actions: ReconcileAction[];
  /** Crash history per slot, to keep for the next round (slots no longer wanted are dropped). */
  crashes: Map<string, CrashRecord>;
}

/**
 * One round of the agent's loop, as a pure function: given what should run and what does, the
 * actions that move the host towards the former. Web dynos are replaced start-before-stop (the old
 * container serves until the new one passes its boot check); other types stop-before-start, so two
 * releases of a worker never process the same queue at once. Crashed dynos restart under the
 * back-off of crash-backoff.ts.
 */
export function planReconcile(
  desired: readonly DesiredDyno[],
  observed: readonly ObservedDyno[],
  previousCrashes: ReadonlyMap<string, CrashRecord>,
  now: number,
): ReconcilePlan {
  const actions: ReconcileAction[] = [];
  const crashes = new Map<string, CrashRecord>();
  const wanted = new Map(desired.map((d) => [slotOf(d), d]));
  const bySlot = new Map<string, ObservedDyno[]>();
  for (const o of observed) {
    const slot = slotOf(o);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), o]);
  }

  for (const [slot, containers] of bySlot) {
    if (wanted.has(slot)) continue;
    for (const c of containers) actions.push(retire(slot, c, "no longer in the formation"));
  }

  for (const [slot, dyno] of wanted) {
    const containers = bySlot.get(slot) ?? [];
    const current = containers.filter((c) => c.release === dyno.release);
    const old = containers.filter((c) => c.release !== dyno.release);
    let crash = previousCrashes.get(slot);

    // One container per slot and release: the newest started is kept, extras go.
    const [keep, ...extras] = [...current].sort(byNewestStart);
    for (const c of extras) actions.push(retire(slot, c, "a duplicate of this dyno"));

    let replacementUp = false;
    if (keep?.status === "running") {
      replacementUp = keep.healthy;
      // A dyno that has run long enough since its last start is no longer crash-looping.
      if (crash && now - Date.parse(keep.startedAt ?? "") >= BACKOFF.stableMs) crash = undefined;
    } else if (keep?.status === "exited" && keep.finishedAt) {
      const finished = Date.parse(keep.finishedAt);
      if (!crash || finished > crash.lastCrashAt) {
        crash = recordCrash(crash, Date.parse(keep.startedAt ?? keep.finishedAt), finished);
      }
      actions.push({
        kind: "remove",
        slot,
        containerId: keep.containerId,
        reason: `crashed (exit ${keep.exitCode ?? "?"})`,
      });
    } else if (keep) {
      // Created but never started: a start interrupted by the agent's own restart.
      actions.push({
        kind: "remove",
        slot,
        containerId: keep.containerId,
        reason: "an unfinished start",
      });
    }
    if (crash) crashes.set(slot, crash);

    const oldRunning = old.filter((c) => c.status === "running");
    for (const c of old.filter((c) => c.status !== "running")) {
      actions.push({
        kind: "remove",
        slot,
        containerId: c.containerId,
        reason: "a previous release",
      });
    }
    const isWeb = dyno.type === "web";
    if (replacementUp || (!isWeb && keep?.status !== "running")) {
      // Web: the new container is serving, so the old may go. Others: old goes first.
      for (const c of oldRunning) actions.push(retire(slot, c, "replaced by a new release"));
    }

    if (keep?.status === "running") continue;
    if (!isWeb && oldRunning.length > 0) continue; // started once the old worker has stopped
    if (crash && nextStartAt(crash) > now) {
      actions.push({ kind: "wait", slot, until: nextStartAt(crash), crashes: crash.crashes });
      continue;
    }
    actions.push({ kind: "start", slot, dyno });
  }
  return { actions, crashes };
}

function retire(slot: string, c: ObservedDyno, reason: string): ReconcileAction {
  return c.status === "running"
    ? { kind: "stop", slot, containerId: c.containerId, reason }
    : { kind: "remove", slot, containerId: c.containerId, reason };
}

function byNewestStart(a: ObservedDyno, b: ObservedDyno): number {
  return Date.parse(b.startedAt ?? "1970-01-01") - Date.parse(a.startedAt ?? "1970-01-01");
}
