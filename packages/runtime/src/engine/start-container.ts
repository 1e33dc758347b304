import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import { cgroupResourcesFromOci } from "../cgroups/oci-resources.ts";
import { type CgroupResources, DEFAULT_ALLOWED_DEVICES } from "../cgroups/resources.ts";
import type { ContainerPaths } from "../container/container-paths.ts";
import { planFailureError } from "../container/plan-failure.ts";
import { buildStartPlan, type StartHost } from "../container/start-plan.ts";
import { RuntimeError } from "../errors.ts";
import type { ContainerNetwork, NetworkAttachment } from "../network/container-network.ts";
import type { OciSpec } from "../spec/oci-schema.ts";
import type { RunOptions } from "../spec/run-options.ts";
import { takeFd } from "../sys/pty.mjs";
import { lowerDirsOf, writeHostsFile } from "./create-container.ts";
import { Rollback } from "./rollback.ts";
import type { RunConsole } from "./run-stdio.ts";
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
  /** -t: takes the pty master the zygote opened in the container's devpts (see run-stdio.ts). */
  console?: RunConsole | undefined;
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
  const lowerDirs = lowerDirsOf(req.spec);
  if (!lowerDirs || lowerDirs.length === 0) {
    throw new RuntimeError(
      "INVALID_STATE",
      `${req.paths.config} names no image layers or rootfs directory`,
    );
  }
  const host: StartHost = {
    overlay: { lowerDirs, upperDir: req.paths.upper, workDir: req.paths.work },
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
 * Puts the zygote in the container's cgroup. The fast path gives the zygote's own group (made
 * while it waited, with the default device list) the container's name and limits: a rename, no
 * process move. A container with a memory limit or other device rules gets a fresh group instead,
 * limits applied before the zygote is moved in (~0.3 ms for all v1 hierarchies on kernel 6.x):
 * the memory the zygote's Node runtime already uses (~40 MiB) stays charged to the group it
 * leaves (cgroup v1 and v2 do not move charges by default), so `-m` counts the app's memory and
 * a limit as small as Docker's 6 MiB minimum does not OOM-kill the zygote before its exec.
 * Any failure of the fast path falls back to the fresh group. Resolves with what is left to do
 * off the critical path (removing the zygote's emptied group), to run while the zygote works.
 */
async function adoptZygoteGroup(
  req: StartRequest,
  zygote: Zygote,
  resources: CgroupResources,
): Promise<() => Promise<void>> {
  const from = zygoteGroup(zygote.pid);
  const { allowedDevices, ...limits } = resources;
  const defaultDevices =
    allowedDevices === undefined ||
    (allowedDevices.length === DEFAULT_ALLOWED_DEVICES.length &&
      allowedDevices.every((d, i) => d === DEFAULT_ALLOWED_DEVICES[i]));
  const memoryLimited =
    typeof limits.memoryBytes === "number" || typeof limits.memoryReservationBytes === "number";
  if (defaultDevices && !memoryLimited) {
    try {
      await zygote.prepared;
      await req.cgroups.rename(from, req.id);
      await req.cgroups.update(req.id, limits);
      return async () => {};
    } catch (e) {
      // Limits the kernel refuses are the user's error; anything else falls to the slow path.
      if (e instanceof RuntimeError && e.code === "INVALID_ARGUMENT") throw e;
      // Renamed but not limited: back to the zygote's name, its process still in it.
      if (await req.cgroups.exists(req.id)) await req.cgroups.rename(req.id, from).catch(() => {});
    }
  }
  await zygote.prepared.catch(() => {});
  await req.cgroups.create(req.id, resources);
  await req.cgroups.addProcess(req.id, zygote.pid);
  // Empty now (the zygote left it); on v1 its memory charges pass to the parent.
  return () => req.cgroups.destroy(from).catch(() => {});
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
    const afterAdopt = await adoptZygoteGroup(req, zygote, resources);
    let consoleError: unknown = null;
    if (plan.console) {
      const { console } = req;
      if (!console)
        throw new RuntimeError("INTERNAL", "a container with a terminal needs a console");
      zygote.sendWithConsole(plan, (fd) => {
        try {
          console.attach(takeFd(zygote.pid, fd));
        } catch (e) {
          consoleError = e;
          zygote.discard();
        }
      });
    } else {
      zygote.send(plan);
    }
    const [outcome] = await Promise.all([zygote.outcome, afterAdopt()]);
    if (consoleError) throw consoleError;
    if (outcome.kind === "error") throw planFailureError(plan, outcome.error);
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
