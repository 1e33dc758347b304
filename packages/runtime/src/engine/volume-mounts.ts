import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { RuntimeError } from "../errors.ts";
import { resolveInRootfs } from "../spec/rootfs-path.ts";
import { anonymousVolume, type VolumeMount } from "../spec/volume-mount.ts";
import { MNT_DETACH } from "../sys/constants.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import type { VolumeStore } from "../volume/volume-store.ts";

export interface PreparedVolumes {
  /** The mounts as the container's state records them: volumes by name. */
  named: VolumeMount[];
  /** The same mounts as binds of the volumes' data directories, for the OCI spec. */
  binds: VolumeMount[];
  /** Volumes this create made (named or anonymous): removed again if the create fails. */
  created: string[];
}

/**
 * Turns `-v NAME:/path`, `-v /path` and an image's VOLUMEs (those no -v covers) into volumes:
 * missing named ones and anonymous ones are created; an empty volume gets what the image (or
 * rootfs) has at its mount point, owners and modes kept — Docker's copy-up. On failure, the
 * volumes made here are removed again: a failed create leaves nothing behind.
 */
export function prepareVolumes(req: {
  mounts: readonly VolumeMount[];
  imageVolumes: readonly string[];
  /** The container's read-only layers, topmost first (one for a plain rootfs). */
  lowerDirs: readonly string[];
  volumes: VolumeStore;
  sys: Syscalls;
  /** An empty directory to mount the image's merged view on for copy-up. */
  scratch: string;
}): PreparedVolumes {
  const out: PreparedVolumes = { named: [], binds: [], created: [] };
  const wanted = [...req.mounts, ...imageVolumeMounts(req.imageVolumes, req.mounts)];
  const empty: CopyTarget[] = [];
  try {
    for (const m of wanted) {
      if (m.type !== "volume") {
        out.named.push(m);
        out.binds.push(m);
        continue;
      }
      const { volume, created } = req.volumes.create(m.source === "" ? undefined : m.source);
      if (created) out.created.push(volume.Name);
      if (req.volumes.isEmpty(volume.Name)) {
        empty.push({ destination: m.destination, volume: volume.Name, dataDir: volume.Mountpoint });
      }
      out.named.push({ ...m, source: volume.Name });
      out.binds.push({
        source: volume.Mountpoint,
        destination: m.destination,
        readonly: m.readonly,
      });
    }
    if (empty.length > 0) copyUp(req, empty);
  } catch (e) {
    removeCreatedVolumes(req.volumes, out.created);
    throw e;
  }
  return out;
}

/** Undoes what prepareVolumes made, for a create that failed after it. */
export function removeCreatedVolumes(volumes: VolumeStore, names: readonly string[]): void {
  for (const name of names) {
    try {
      volumes.remove(name);
    } catch (e) {
      // The create's own error matters more; this one must still be seen.
      process.emitWarning(`removing volume ${name} after a failed create: ${(e as Error).message}`);
    }
  }
}

/** Anonymous volumes for the image's VOLUMEs that no -v already covers. */
function imageVolumeMounts(
  imageVolumes: readonly string[],
  mounts: readonly VolumeMount[],
): VolumeMount[] {
  const out: VolumeMount[] = [];
  for (const declared of imageVolumes) {
    // Docker's builder stores VOLUME paths as written; relative ones are taken from /.
    const destination = path.posix.resolve("/", declared);
    if (destination === "/") {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `the image declares VOLUME ${JSON.stringify(declared)}: a volume cannot be mounted on /`,
      );
    }
    const taken = [...mounts, ...out].some((m) => m.destination === destination);
    if (!taken) out.push(anonymousVolume(destination));
  }
  return out;
}

interface CopyTarget {
  destination: string;
  volume: string;
  dataDir: string;
}

/** Copies the image's content at each mount point into its (still empty) volume. */
function copyUp(
  req: { lowerDirs: readonly string[]; sys: Syscalls; scratch: string; volumes: VolumeStore },
  targets: readonly CopyTarget[],
): void {
  // One layer is its own view; several are overlaid read-only, so whiteouts and opaque
  // directories hide what the container would not see either.
  const single = req.lowerDirs.length === 1;
  const view = single ? (req.lowerDirs[0] as string) : req.scratch;
  if (!single) {
    fs.mkdirSync(view, { recursive: true });
    req.sys.mountOverlay(view, req.lowerDirs, null, null);
  }
  try {
    for (const t of targets) {
      // The same volume may be mounted twice: only its first mount point is copied in.
      if (!req.volumes.isEmpty(t.volume)) continue;
      // Symlinks resolve inside the image, as the container's mount target does: nothing
      // outside the image can be read into the volume.
      const source = resolveInRootfs(view, t.destination);
      const st = fs.lstatSync(source, { throwIfNoEntry: false });
      if (!st?.isDirectory()) continue;
      fs.chownSync(t.dataDir, st.uid, st.gid);
      fs.chmodSync(t.dataDir, st.mode & 0o7777);
      try {
        execFileSync("cp", ["-a", "--", `${source}/.`, t.dataDir], {
          stdio: ["ignore", "ignore", "pipe"],
        });
      } catch (e) {
        // Leave the volume empty, as it was: the next container's copy-up starts afresh.
        for (const n of fs.readdirSync(t.dataDir)) {
          fs.rmSync(path.join(t.dataDir, n), { recursive: true, force: true });
        }
        throw new RuntimeError(
          "INTERNAL",
          `copying the image's ${t.destination} into volume ${t.volume} failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`,
          { volume: t.volume, destination: t.destination },
        );
      }
    }
  } finally {
    if (!single) {
      req.sys.umount2(view, MNT_DETACH);
      fs.rmdirSync(view);
    }
  }
}
