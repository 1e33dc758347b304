import type { HealthcheckConfig, HealthState } from "../engine/health-monitor.ts";
import type { NetworkAttachment } from "../network/container-network.ts";
import type { RunOptions } from "../spec/run-options.ts";

export type ContainerStatus = "created" | "running" | "exited";

/** Why a container stopped, as `inspect` reports it. */
export type ExitReason = "exited" | "oom-killed" | `killed by ${string}`;

export function exitReason(oomKilled: boolean, signal: string | null): ExitReason {
  if (oomKilled) return "oom-killed";
  return signal ? `killed by ${signal}` : "exited";
}

/** A container as persisted in root/containers/<id>/state.json. */
export interface ContainerState {
  id: string;
  name: string;
  status: ContainerStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Host PID of the container's init while running; with its start time, to survive PID reuse. */
  pid: number | null;
  pidStartTime: string | null;
  exitCode: number | null;
  /** Set when the exit was a signal (the init or the app killed by it). */
  signal: string | null;
  oomKilled: boolean;
  /** "exited", "oom-killed" or "killed by SIGx"; null until the container has exited. */
  exitReason: ExitReason | null;
  /** Why the last start failed or what the container said on failing (command not found). */
  error: string | null;
  /** The network while running (bridge: address and published ports); null otherwise. */
  network: NetworkAttachment | null;
  /**
   * The options it runs with (for an image: with the image's Entrypoint, Cmd, Env, WorkingDir,
   * User and StopSignal applied); its OCI spec is config.json beside state.json.
   */
  options: RunOptions;
  /** For `run IMAGE`: the image's ID (its config digest), kept while the container exists. */
  imageId?: string;
  /** The image's EXPOSEd ports (`80/tcp`): what it documents listening on; -p publishes. */
  exposedPorts?: string[];
  /** The image's HEALTHCHECK, run while the container runs. */
  healthcheck?: HealthcheckConfig;
  /** Live health (not persisted): added by the engine's inspect and list. */
  health?: HealthState;
}

/** created → running → exited, and exited → running again (`start`). */
export function canStart(s: ContainerState): boolean {
  return s.status === "created" || s.status === "exited";
}

export function canStop(s: ContainerState): boolean {
  return s.status === "running";
}

export function canRemove(s: ContainerState, force: boolean): boolean {
  return s.status !== "running" || force;
}
