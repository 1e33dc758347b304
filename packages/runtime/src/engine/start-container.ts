import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import { cgroupResourcesFromOci } from "../cgroups/oci-resources.ts";
import { type CgroupResources, DEFAULT_ALLOWED_DEVICES } from "../cgroups/resources.ts";
import type { ContainerPaths } from "../container/container-paths.ts";
import { buildStartPlan, type StartHost } from "../container/start-plan.ts";
import { RuntimeError } from "../errors.ts";
import type { ContainerNetwork, NetworkAttachment } from "../network/container-network.ts";
import type { OciSpec } from "../spec/oci-schema.ts";
import type { RunOptions } from "../spec/run-options.ts";
import { toSyscallError } from "../sys/syscalls.ts";
import { ROOTFS_ANNOTATION, writeHostsFile } from "./create-container.ts";
import { Rollback } from "./rollback.ts";
import { zygoteGroup } from "./zygote-group.ts";
import type { Zygote, ZygotePool } from "./zygote-pool.ts";

export interface StartRequest {
  id: string;
  /** The container's config.json: everything the zygote does is derived from it. */
  spec: OciSpec;
  /** For the network: --network and -p (the spec holds only the namespace path). */
  options: Pick<RunOptions, "network" | "ports">;
  paths: ContainerPaths;
  pool: ZygotePool;
  cgroups: CgroupDriver;
  network: ContainerNetwork;
  initBinary: string;
  lastCap: number;
  /** -i / -t: stdio paths replacing /dev/null and the log FIFOs (see run-stdio.ts). */
  stdio?: Partial<Pick<StartHost, "stdinPath" | "stdoutPath" | "stderrPath">>;
}

export interface StartResult {
  zygote: Zygote;
  /** The bridge network as attached (null in host and none modes). */
  network: NetworkAttachment | null;
  /** Set when the command does not exist in the container (its init then exits 127 by itself). */
  notFound?: string;
}

/** The host side of the start plan: overlay layers and stdio of this container. */
export function startHostFor(
  req: Pick<StartRequest, "spec" | "paths" | "initBinary" | "lastCap" | "stdio">,
) {
  const lowerDir = req.spec.annotations?.[ROOTFS_ANNOTATION];
  if (!lowerDir) {
    throw new RuntimeError("INVALID_STATE", `${req.paths.config} names no rootfs directory`);
  }
  const host: StartHost = {
    overlay: { lowerDir, upperDir: req.paths.upper, workDir: req.paths.work },
    stdinPath: "/dev/null",
    stdoutPath: req.paths.stdoutFifo,
    stderrPath: req.paths.stderrFifo,
    exitStatusPath: req.paths.exitStatus,
    initBinary: req.initBinary,
    lastCap: req.lastCap,
    ...req.stdio,
  };
  return host;
}

/**
 * Gives the zygote's own cgroup (made while it waited, with the default device list) the
 * container's name and limits. A container whose device rules differ gets a fresh group instead
 * (the v1 device list is only written at create), as does any failure to rename.
 */
async function adoptZygoteGroup(
  req: StartRequest,
  zygote: Zygote,
  resources: CgroupResources,
): Promise<void> {
  const from = zygoteGroup(zygote.pid);
  const { allowedDevices, ...limits } = resources;
  const defaultDevices =
    allowedDevices === undefined ||
    (allowedDevices.length === DEFAULT_ALLOWED_DEVICES.length &&
      allowedDevices.every((d, i) => d === DEFAULT_ALLOWED_DEVICES[i]));
  if (defaultDevices) {
    try {
      await zygote.prepared;
      await req.cgroups.rename(from, req.id);
      await req.cgroups.update(req.id, limits);
      return;
    } catch (e) {
      // Limits the kernel refuses are the user's error; anything else falls to the slow path.
      if (e instanceof RuntimeError && e.code === "INVALID_ARGUMENT") throw e;
      await req.cgroups.destroy(req.id).catch(() => {});
    }
  }
  await req.cgroups.destroy(from).catch(() => {});
  await req.cgroups.create(req.id, resources);
  await req.cgroups.addProcess(req.id, zygote.pid);
}

/**
 * The start path: the network attached (bridge mode), a warm zygote's cgroup turned into
 * the container's, the plan sent, the outcome awaited. On any failure everything done is undone in
 * reverse order (the zygote's namespaces and mounts die with it; cgroup destroyed; network
 * detached: veth, IP lease, port mappings, namespace file).
 */
export async function startContainer(req: StartRequest): Promise<StartResult> {
  const rollback = new Rollback();
  try {
    const plan = buildStartPlan(req.spec, startHostFor(req));
    const resources = cgroupResourcesFromOci(req.spec.linux?.resources);
    let network: NetworkAttachment | null = null;
    if (req.options.network === "bridge") {
      rollback.add("network", () => req.network.detach(req.id));
      network = await req.network.attach({
        containerId: req.id,
        mode: req.options.network,
        portMappings: req.options.ports.map((p) => ({
          hostPort: p.hostPort,
          containerPort: p.containerPort,
          protocol: p.protocol,
          ...(p.hostIp !== undefined ? { hostIP: p.hostIp } : {}),
        })),
      });
      const expected = req.spec.linux?.namespaces?.find((n) => n.type === "network")?.path;
      if (network.netnsPath !== expected) {
        throw new RuntimeError(
          "INTERNAL",
          `network namespace ${network.netnsPath} is not the one in ${req.paths.config} (${expected})`,
        );
      }
      if (network.ip && req.spec.hostname) {
        writeHostsFile(req.paths.hosts, req.spec.hostname, network.ip);
      }
    }
    const zygote = await req.pool.take();
    rollback.add("zygote", async () => {
      zygote.discard();
      await zygote.exited;
    });
    rollback.add("cgroup", async () => {
      await req.cgroups.destroy(req.id);
      await req.cgroups.destroy(zygoteGroup(zygote.pid));
    });
    await adoptZygoteGroup(req, zygote, resources);
    zygote.send(plan);
    const outcome = await zygote.outcome;
    if (outcome.kind === "error") throw toSyscallError(outcome.error);
    rollback.commit();
    return outcome.kind === "notFound"
      ? { zygote, network, notFound: outcome.message }
      : { zygote, network };
  } catch (e) {
    await rollback.run();
    throw e;
  } finally {
    setTimeout(() => req.pool.refill(), 20).unref();
  }
}
