import fs from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { cgroupResourcesFromOci } from "../cgroups/oci-resources.ts";
import { parseCgroupResources } from "../cgroups/resources.ts";
import type { RuntimeConfig } from "../config.ts";
import type { ContainerPaths } from "../container/container-paths.ts";
import { RuntimeError } from "../errors.ts";
import { isOpaqueDir } from "../image/layer-apply.ts";
import type { ContainerConfig } from "../image/oci-schemas.ts";
import { NetnsFiles } from "../network/netns.ts";
import { buildOciSpec } from "../spec/build-oci-spec.ts";
import { thermalThrottlePaths } from "../spec/docker-defaults.ts";
import { applyImageConfig } from "../spec/image-run-config.ts";
import { type OciSpec, ociSpecSchema } from "../spec/oci-schema.ts";
import type { RunOptions } from "../spec/run-options.ts";
import { resolveUser } from "../spec/user-resolver.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import type { EngineRunRequest } from "./run-input.ts";

/** Annotation carrying the --rootfs directory: the overlay's lower layer. */
export const ROOTFS_ANNOTATION = "dev.berth.rootfs";
/** Annotations of an image's container: the name it was run as, its ID, its snapshots (JSON). */
export const IMAGE_ANNOTATION = "dev.berth.image";
export const IMAGE_ID_ANNOTATION = "dev.berth.image-id";
export const LOWER_DIRS_ANNOTATION = "dev.berth.lower-dirs";

/** An image as the engine runs it: its layer snapshots (topmost first) and its run config. */
export interface RunImage {
  name: string;
  id: string;
  lowerDirs: string[];
  config: ContainerConfig;
}

export interface CreateFilesRequest {
  id: string;
  request: EngineRunRequest;
  /** Set for `run IMAGE` (resolved from the store by the caller). */
  image?: RunImage;
  config: RuntimeConfig;
  paths: ContainerPaths;
  sys: Syscalls;
}

/** The overlay's lower dirs of a created container, topmost first, from its config.json. */
export function lowerDirsOf(spec: OciSpec): string[] | undefined {
  const layers = spec.annotations?.[LOWER_DIRS_ANNOTATION];
  if (layers !== undefined) return JSON.parse(layers) as string[];
  const rootfs = spec.annotations?.[ROOTFS_ANNOTATION];
  return rootfs === undefined ? undefined : [rootfs];
}

/**
 * Checks what the options point at on the host, builds the container's OCI spec and writes the
 * container's files: overlay dirs, /etc files, stdio FIFOs and config.json — the one description
 * every later start executes. Validation comes first and touches nothing; a failure while writing
 * removes everything written.
 */
export function createContainerFiles(req: CreateFilesRequest): {
  spec: OciSpec;
  options: RunOptions;
} {
  const { id, config, paths, image } = req;
  let options = req.request.options;
  let lowerDirs: string[];
  let annotations: Record<string, string>;
  if (image) {
    options = applyImageConfig(options, image.config, image.name);
    lowerDirs = image.lowerDirs;
    annotations = {
      [IMAGE_ANNOTATION]: image.name,
      [IMAGE_ID_ANNOTATION]: image.id,
      [LOWER_DIRS_ANNOTATION]: JSON.stringify(lowerDirs),
    };
  } else {
    const rootfs = path.resolve(options.rootfs ?? "");
    if (
      options.rootfs === undefined ||
      !fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()
    ) {
      throw new RuntimeError("INVALID_ARGUMENT", `rootfs ${options.rootfs} is not a directory`, {
        rootfs: options.rootfs ?? "",
      });
    }
    options = { ...options, rootfs };
    lowerDirs = [rootfs];
    annotations = { [ROOTFS_ANNOTATION]: rootfs };
  }
  for (const v of options.volumes) {
    if (!fs.existsSync(v.source)) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `invalid volume ${v.source}:${v.destination}: the host path ${v.source} does not exist`,
        { source: v.source },
      );
    }
  }
  const hostname = options.hostname ?? id.slice(0, 12);
  const spec = buildOciSpec(options, {
    rootfs: paths.merged,
    hostname,
    user: resolveUser(
      lowerDirs.length === 1
        ? (lowerDirs[0] as string)
        : { lowerDirs, isOpaque: (dir) => isOpaqueDir(req.sys, dir) },
      options.user,
    ),
    cgroupsPath: `${config.cgroupParent}/${id}`,
    // none: a new namespace made by the zygote itself (lo only); bridge: the CNI-made one.
    ...(options.network === "bridge"
      ? { networkNamespacePath: new NetnsFiles(config.runRoot).pathOf(id) }
      : {}),
    extraMaskedPaths: thermalThrottlePaths(),
    etcFiles: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
    annotations,
  });

  // Limits the kernel would refuse (under 6 MiB, more CPUs than the host has) fail here, not at start.
  parseCgroupResources(cgroupResourcesFromOci(spec.linux?.resources), availableParallelism());

  try {
    for (const dir of [paths.dir, paths.runDir]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    for (const dir of [paths.upper, paths.work, paths.merged]) fs.mkdirSync(dir, { mode: 0o700 });
    // The overlay's / takes the upper dir's owner and mode: give it the rootfs's (0755 usually),
    // or only root could reach anything in the container. The 0700 state dir guards the host side.
    const top = fs.statSync(lowerDirs[0] as string);
    fs.chmodSync(paths.upper, top.mode & 0o7777);
    fs.chownSync(paths.upper, top.uid, top.gid);
    writeHostsFile(paths.hosts, hostname, null);
    fs.writeFileSync(paths.hostname, `${hostname}\n`);
    fs.writeFileSync(paths.resolvConf, resolvConfFor(options.network));
    for (const fifo of [paths.stdoutFifo, paths.stderrFifo]) mkfifo(req.sys, fifo);
    const text = `${JSON.stringify(spec, null, 2)}\n`;
    writeFileAtomic(paths.config, text);
    rememberSpec(paths.config, text, spec);
    return { spec, options };
  } catch (e) {
    fs.rmSync(paths.dir, { recursive: true, force: true });
    fs.rmSync(paths.runDir, { recursive: true, force: true });
    throw e;
  }
}

/** The container's config.json, validated: what `start` executes. */
export function readContainerSpec(paths: ContainerPaths): OciSpec {
  const text = fs.readFileSync(paths.config, "utf8");
  // Validated once per content: a restart of a container reuses it, an edited file is re-read.
  const cached = specCache.get(paths.config);
  if (cached?.text === text) return cached.spec;
  const parsed = ociSpecSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RuntimeError(
      "INVALID_STATE",
      `${paths.config} is not a valid OCI spec: ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  rememberSpec(paths.config, text, parsed.data);
  return parsed.data;
}

const SPEC_CACHE_SIZE = 64;
const specCache = new Map<string, { text: string; spec: OciSpec }>();

function rememberSpec(file: string, text: string, spec: OciSpec): void {
  specCache.delete(file);
  if (specCache.size >= SPEC_CACHE_SIZE) specCache.delete(specCache.keys().next().value!);
  specCache.set(file, { text, spec });
}

/** /etc/hosts; rewritten in place (the bind mount holds the inode) once the IP is known. */
export function writeHostsFile(file: string, hostname: string, ip: string | null): void {
  const self = ip ? `${ip}\t${hostname}\n` : `127.0.1.1\t${hostname}\n`;
  fs.writeFileSync(
    file,
    `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${self}`,
  );
}

/**
 * The host's resolv.conf for host mode; for bridge mode without loopback name servers (the
 * container's 127.0.0.1 is its own), as Docker does; empty for none.
 */
function resolvConfFor(network: string): string {
  if (network === "none") return "";
  let text = "";
  try {
    text = fs.readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
  if (network === "host") return text;
  return text
    .split("\n")
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l))
    .join("\n");
}

/**
 * Write a temp file, rename it over the old one: readers see the old or the new file, never half.
 * The fsync runs afterwards on libuv's pool (as StateStore's do): it costs the create path nothing.
 */
function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
  void fs.promises
    .open(file, "r")
    .then((fh) => fh.sync().finally(() => fh.close()))
    .catch(() => {});
}

function mkfifo(sys: Syscalls, file: string): void {
  const S_IFIFO = 0o010000;
  sys.mknod(file, S_IFIFO | 0o600, 0);
}
