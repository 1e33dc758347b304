import fs from "node:fs";
import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import type { CgroupResources } from "../cgroups/resources.ts";
import type { ContainerPaths } from "../container/container-paths.ts";
import {
  DEFAULT_PATH,
  DOCKER_DEFAULT_CAPS,
  DOCKER_MASKED_PATHS,
  DOCKER_READONLY_PATHS,
} from "../container/docker-defaults.ts";
import { buildFallbackSeccomp } from "../container/fallback-seccomp.ts";
import { buildStartPlan } from "../container/start-plan.ts";
import type { StartSpec } from "../container/start-spec.ts";
import { RLIMIT } from "../sys/constants.ts";
import { toSyscallError } from "../sys/syscalls.ts";
import { Rollback } from "./rollback.ts";
import type { RunOptions } from "./run-options.ts";
import { zygoteGroup } from "./zygote-group.ts";
import type { Zygote, ZygotePool } from "./zygote-pool.ts";

export interface StartRequest {
  id: string;
  options: RunOptions;
  paths: ContainerPaths;
  pool: ZygotePool;
  cgroups: CgroupDriver;
  initBinary: string;
  lastCap: number;
}

/** Turns validated run options into the zygote's StartSpec (host paths resolved, defaults set). */
export function startSpecFor(req: StartRequest): StartSpec {
  const { options: o, paths } = req;
  const env = o.env.some((e) => e.startsWith("PATH=")) ? o.env : [`PATH=${DEFAULT_PATH}`, ...o.env];
  const network: StartSpec["network"] =
    o.network === "none" || o.network === "host"
      ? { mode: o.network }
      : { mode: "path", path: o.network.netnsPath };
  return {
    lowerDir: o.rootfs,
    upperDir: paths.upper,
    workDir: paths.work,
    mergedDir: paths.merged,
    stdinPath: "/dev/null",
    stdoutPath: paths.stdoutFifo,
    stderrPath: paths.stderrFifo,
    exitStatusPath: paths.exitStatus,
    etcFiles: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
    initBinary: req.initBinary,
    hostname: o.hostname ?? req.id.slice(0, 12),
    network,
    mounts: o.mounts.map((m) => ({
      ...m,
      kind: fs.statSync(m.source).isDirectory() ? ("dir" as const) : ("file" as const),
    })),
    maskedPaths: DOCKER_MASKED_PATHS,
    readonlyPaths: DOCKER_READONLY_PATHS,
    process: {
      args: o.args,
      env: [...env, `HOSTNAME=${o.hostname ?? req.id.slice(0, 12)}`],
      cwd: o.cwd,
      uid: o.uid,
      gid: o.gid,
      additionalGids: o.additionalGids,
      capabilities: DOCKER_DEFAULT_CAPS,
      rlimits: [{ resource: RLIMIT.NOFILE, soft: 1024, hard: 20000 }],
      noNewPrivileges: true,
    },
    // TODO(packages/runtime/src/security/seccomp): the full Docker profile once its BPF compiler lands.
    seccomp: buildFallbackSeccomp(),
    lastCap: req.lastCap,
  };
}

/**
 * Gives the zygote's own cgroup (made while it waited) the container's name and limits: renaming a
 * group is a directory rename in each hierarchy, far cheaper than moving a multi-threaded process.
 * TODO(packages/runtime/src/cgroups): a `rename(from, to)` on CgroupDriver instead of using paths().
 */
async function adoptZygoteGroup(
  req: StartRequest,
  zygote: Zygote,
  resources: CgroupResources,
): Promise<void> {
  const from = zygoteGroup(zygote.pid);
  try {
    await zygote.prepared;
    const src = req.cgroups.paths(from);
    const dst = req.cgroups.paths(req.id);
    const done = new Set<string>();
    for (const [controller, dir] of Object.entries(src)) {
      if (done.has(dir)) continue;
      fs.renameSync(dir, dst[controller]!);
      done.add(dir);
    }
    await req.cgroups.update(req.id, resources);
  } catch {
    // Slow path: a fresh group, then move the process (the zygote's group is cleaned up).
    await req.cgroups.destroy(from).catch(() => {});
    await req.cgroups.create(req.id, resources);
    await req.cgroups.addProcess(req.id, zygote.pid);
  }
}

/**
 * The start path: cgroup, a warm zygote moved into it, the plan sent, the outcome awaited. On any
 * failure everything done is undone (the zygote's namespaces and mounts die with it; the cgroup
 * is destroyed). Resolves with the zygote — now the container's init — or `notFound` when the
 * command does not exist in the container (it then exits 127 by itself).
 */
export async function startContainer(
  req: StartRequest,
): Promise<{ zygote: Zygote; notFound?: string }> {
  const rollback = new Rollback();
  try {
    const spec = startSpecFor(req);
    const plan = buildStartPlan(spec);
    const resources = {
      ...(req.options.memoryBytes !== undefined ? { memoryBytes: req.options.memoryBytes } : {}),
      ...(req.options.cpus !== undefined ? { cpus: req.options.cpus } : {}),
      ...(req.options.pidsLimit !== undefined ? { pidsLimit: req.options.pidsLimit } : {}),
    };
    const zygote = await req.pool.take();
    rollback.add("zygote", async () => {
      zygote.discard();
      await zygote.exited;
    });
    await adoptZygoteGroup(req, zygote, resources);
    rollback.add("cgroup", () => req.cgroups.destroy(req.id));
    zygote.send(plan);
    const outcome = await zygote.outcome;
    if (outcome.kind === "error") throw toSyscallError(outcome.error);
    rollback.commit();
    return outcome.kind === "notFound" ? { zygote, notFound: outcome.message } : { zygote };
  } catch (e) {
    await rollback.run();
    throw e;
  } finally {
    setTimeout(() => req.pool.refill(), 20).unref();
  }
}
