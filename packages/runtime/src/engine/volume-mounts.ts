import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { RuntimeError } from "../errors.ts";
import type { VolumeMount } from "../spec/volume-mount.ts";
import { MNT_DETACH } from "../sys/constants.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import type { VolumeStore } from "../volume/volume-store.ts";

export interface PreparedVolumes {
  /** The mounts as the container's state records them: volumes by name. */
  named: VolumeMount[];
  /** The same mounts as binds of the volumes' data directories, for the OCI spec. */
  binds: VolumeMount[];
  /** Volumes made for this container (anonymous ones), to be removed if the create fails. */
  createdAnonymous: string[];
}

/**
 * Turns `-v NAME:/path`, `-v /path` and an image's VOLUMEs (those no -v covers) into volumes:
 * missing named ones and anonymous ones are created; a new, empty volume gets what the image
 * (or rootfs) has at its mount point, owners and modes kept — Docker's copy-up.
 */
export function prepareVolumes(req: {
  mounts: readonly VolumeMount[];
  imageVolumes: readonly string[];
  lowerDirs: readonly string[];
  volumes: VolumeStore;
  sys: Syscalls;
  /** An empty directory to mount the image's merged view on for copy-up. */
  scratch: string;
}): PreparedVolumes {
  const out: PreparedVolumes = { named: [], binds: [], createdAnonymous: [] };
  const wanted = [...req.mounts];
  for (const dest of req.imageVolumes) {
    const clean = path.posix.normalize(dest).replace(/(.)\/+$/, "$1");
    if (!wanted.some((m) => m.destination === clean)) {
      wanted.push({ type: "volume", source: "", destination: clean, readonly: false });
    }
  }
  const fresh: { destination: string; dataDir: string }[] = [];
  try {
    for (const m of wanted) {
      if (m.type !== "volume") {
        out.named.push(m);
        out.binds.push(m);
        continue;
      }
      const anonymous = m.source === "";
      const { volume, created } = req.volumes.create(anonymous ? undefined : m.source);
      if (created && anonymous) out.createdAnonymous.push(volume.Name);
      if (created) fresh.push({ destination: m.destination, dataDir: volume.Mountpoint });
      out.named.push({ ...m, source: volume.Name });
      out.binds.push({
        source: volume.Mountpoint,
        destination: m.destination,
        readonly: m.readonly,
      });
    }
    if (fresh.length > 0) copyUp(req, fresh);
  } catch (e) {
    for (const name of out.createdAnonymous) req.volumes.remove(name);
    throw e;
  }
  return out;
}

/** Copies the image's content at each mount point into its new volume. */
function copyUp(
  req: { lowerDirs: readonly string[]; sys: Syscalls; scratch: string },
  fresh: { destination: string; dataDir: string }[],
): void {
  const single = req.lowerDirs.length === 1;
  const view = single ? (req.lowerDirs[0] as string) : req.scratch;
  if (!single) {
    fs.mkdirSync(view, { recursive: true });
    req.sys.mountOverlay(view, req.lowerDirs, null, null);
  }
  try {
    for (const f of fresh) {
      const source = path.join(view, f.destination);
      // A path that is not a plain directory in the image (absent, a file, a symlink) has nothing
      // to copy; symlinks are not followed, so nothing outside the image can be read.
      const st = fs.lstatSync(source, { throwIfNoEntry: false });
      if (!st?.isDirectory()) continue;
      fs.chownSync(f.dataDir, st.uid, st.gid);
      fs.chmodSync(f.dataDir, st.mode & 0o7777);
      try {
        execFileSync("cp", ["-a", "--", `${source}/.`, f.dataDir], {
          stdio: ["ignore", "ignore", "pipe"],
        });
      } catch (e) {
        throw new RuntimeError(
          "INTERNAL",
          `copying the image's ${f.destination} into its new volume failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`,
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
