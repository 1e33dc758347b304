import path from "node:path";
import type { RuntimeConfig } from "../config.ts";

/** Where one container's files live: durable under root, volatile (FIFOs) under runRoot. */
export function containerPaths(config: RuntimeConfig, id: string) {
  const dir = path.join(config.root, "containers", id);
  const run = path.join(config.runRoot, "containers", id);
  return {
    dir,
    runDir: run,
    upper: path.join(dir, "upper"),
    work: path.join(dir, "work"),
    merged: path.join(dir, "merged"),
    /** The container's OCI runtime spec, written at create; every start executes it. */
    config: path.join(dir, "config.json"),
    hosts: path.join(dir, "hosts"),
    hostname: path.join(dir, "hostname"),
    resolvConf: path.join(dir, "resolv.conf"),
    exitStatus: path.join(dir, "exit-status"),
    log: path.join(dir, "container.log"),
    stdoutFifo: path.join(run, "stdout"),
    stderrFifo: path.join(run, "stderr"),
  };
}

export type ContainerPaths = ReturnType<typeof containerPaths>;
