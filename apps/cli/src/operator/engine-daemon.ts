import { join } from "node:path";
import type { DaemonSettings } from "@berth/runtime/daemon";
import type { CliEnv } from "../env.ts";

/** The engine daemon's settings from the CLI's environment (the runtime reads no env itself). */
export function engineDaemonSettings(env: CliEnv): DaemonSettings {
  return {
    root: join(env.BERTH_DATA_DIR, "runtime"),
    runRoot: join(env.BERTH_RUN_DIR, "runtime"),
    logDir: env.BERTH_LOG_DIR,
    bridgeName: env.BERTH_BRIDGE,
    subnet: env.BERTH_SUBNET,
    ...(env.BERTH_CGROUP_PARENT ? { cgroupParent: env.BERTH_CGROUP_PARENT } : {}),
  };
}
