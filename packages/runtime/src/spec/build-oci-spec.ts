import { release } from "node:os";
import { RuntimeError } from "../errors.ts";
import { resolveCapabilities } from "../security/capabilities.ts";
import { DOCKER_DEFAULT_SECCOMP_PROFILE } from "../security/seccomp/default-profile.ts";
import type { OciSeccomp } from "../security/seccomp/profile-schema.ts";
import { resolveSeccompProfile } from "../security/seccomp/resolve-profile.ts";
import {
  DEFAULT_PATH_ENV,
  DOCKER_MASKED_PATHS,
  DOCKER_READONLY_PATHS,
  defaultDeviceRules,
  dockerDefaultMounts,
  hostNofileHardLimit,
  nofileLimit,
} from "./docker-defaults.ts";
import { mergeEnv } from "./env.ts";
import {
  type NamespaceType,
  OCI_VERSION,
  type OciMount,
  type OciResources,
  type OciSpec,
  ociSpecSchema,
} from "./oci-schema.ts";
import { CPU_PERIOD_US, cpuQuotaFor } from "./resource-values.ts";
import type { RunOptions } from "./run-options.ts";
import { type ResolvedUser, resolveUser } from "./user-resolver.ts";

/** What the engine knows about the container beyond the user's options. */
export interface BuildSpecContext {
  /** root.path: the container's root file system (the overlay mount point). */
  rootfs: string;
  /** Hostname when --hostname is absent; Docker uses the first 12 characters of the ID. */
  hostname: string;
  /** The -u user already resolved; otherwise resolved now from `userLookupRootfs`. */
  user?: ResolvedUser;
  /** Where /etc/passwd and /etc/group are read; defaults to `rootfs`, else options.rootfs. */
  userLookupRootfs?: string;
  /** The host's hard RLIMIT_NOFILE; read from /proc/self/limits when absent. */
  hostNofileHard?: number;
  /** uname -r, for the profile's kernel conditions; os.release() when absent. */
  kernelRelease?: string;
  cgroupsPath?: string;
  /** A network namespace to join (bridge mode, prepared by the network driver). */
  networkNamespacePath?: string;
  /** Host paths to also mask, e.g. thermalThrottlePaths(). */
  extraMaskedPaths?: readonly string[];
  /** Host files bind-mounted over /etc/hosts, /etc/hostname and /etc/resolv.conf. */
  etcFiles?: { hosts?: string; hostname?: string; resolvConf?: string };
  annotations?: Record<string, string>;
}

/**
 * Builds the config.json the engine executes, with Docker's defaults as the floor: namespaces
 * mount, pid, uts, ipc, network (shared with the host only for --network host) and cgroup; Docker's
 * capability set adjusted by --cap-add/--cap-drop (bounding always; effective and permitted only
 * for root; inheritable and ambient never); no_new_privs; NOFILE min(host hard limit, 1048576);
 * Docker's mounts, masked and read-only paths; the resolved default seccomp profile; limits from
 * -m, --cpus, --cpu-shares and --pids-limit. The result is validated against the schema.
 */
export function buildOciSpec(options: RunOptions, context: BuildSpecContext): OciSpec {
  const hostname = options.hostname ?? context.hostname;
  const user =
    context.user ?? resolveUser(context.userLookupRootfs ?? context.rootfs, options.user);
  const caps = resolveCapabilities({ add: options.capAdd, drop: options.capDrop });
  const isRoot = user.uid === 0;
  const nofile = nofileLimit(context.hostNofileHard ?? hostNofileHardLimit());

  const env = mergeEnv(
    [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${hostname}`, ...(options.tty ? ["TERM=xterm"] : [])],
    options.env,
  );
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${user.home}`);

  const namespaces: { type: NamespaceType; path?: string }[] = [
    { type: "mount" },
    { type: "pid" },
    { type: "uts" },
    { type: "ipc" },
    { type: "cgroup" },
  ];
  if (options.network !== "host") {
    namespaces.push(
      context.networkNamespacePath
        ? { type: "network", path: context.networkNamespacePath }
        : { type: "network" },
    );
  }

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: options.tty,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args: options.command,
      env,
      cwd: options.workdir ?? "/",
      capabilities: {
        bounding: caps,
        effective: isRoot ? caps : [],
        permitted: isRoot ? caps : [],
        inheritable: [],
        ambient: [],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", soft: nofile, hard: nofile }],
      noNewPrivileges: options.security.noNewPrivileges,
    },
    root: { path: context.rootfs, readonly: false },
    hostname,
    mounts: [...dockerDefaultMounts(), ...etcMounts(context.etcFiles), ...volumeMounts(options)],
    linux: {
      namespaces,
      resources: resources(options),
      ...(context.cgroupsPath ? { cgroupsPath: context.cgroupsPath } : {}),
      maskedPaths: [...DOCKER_MASKED_PATHS, ...(context.extraMaskedPaths ?? [])],
      readonlyPaths: [...DOCKER_READONLY_PATHS],
      ...seccompFor(options, caps, context.kernelRelease ?? release()),
    },
    ...(context.annotations ? { annotations: { ...context.annotations } } : {}),
  };

  const checked = ociSpecSchema.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new RuntimeError(
      "INTERNAL",
      `built an invalid OCI spec: ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  return checked.data;
}

function seccompFor(
  options: RunOptions,
  capabilities: readonly string[],
  kernelRelease: string,
): { seccomp?: OciSeccomp } {
  const choice = options.security.seccomp;
  if (choice.mode === "unconfined") return {};
  const profile = choice.mode === "profile" ? choice.profile : DOCKER_DEFAULT_SECCOMP_PROFILE;
  return { seccomp: resolveSeccompProfile(profile, { capabilities, kernelRelease }) };
}

function resources(options: RunOptions): OciResources {
  const out: OciResources = { devices: defaultDeviceRules() };
  if (options.memory !== undefined) {
    // Docker's default swap allowance equals the memory limit (memory+swap = twice the limit).
    const swap = options.memorySwap ?? options.memory * 2;
    out.memory = { limit: options.memory, swap };
  }
  if (options.nanoCpus !== undefined || options.cpuShares !== undefined) {
    out.cpu = {
      ...(options.cpuShares !== undefined ? { shares: options.cpuShares } : {}),
      ...(options.nanoCpus !== undefined
        ? { quota: cpuQuotaFor(options.nanoCpus), period: CPU_PERIOD_US }
        : {}),
    };
  }
  if (options.pidsLimit !== undefined) out.pids = { limit: options.pidsLimit };
  return out;
}

function volumeMounts(options: RunOptions): OciMount[] {
  return options.volumes.map((v) => ({
    destination: v.destination,
    type: "bind",
    source: v.source,
    options: ["rbind", "rprivate", v.readonly ? "ro" : "rw"],
  }));
}

function etcMounts(files: BuildSpecContext["etcFiles"]): OciMount[] {
  const bind = (source: string | undefined, destination: string): OciMount[] =>
    source ? [{ destination, type: "bind", source, options: ["rbind", "rprivate"] }] : [];
  return [
    ...bind(files?.resolvConf, "/etc/resolv.conf"),
    ...bind(files?.hostname, "/etc/hostname"),
    ...bind(files?.hosts, "/etc/hosts"),
  ];
}
