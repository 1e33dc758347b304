import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import type { ContainerPaths } from "../container/container-paths.ts";
import type { ContainerState } from "../container/container-state.ts";
import { RuntimeError } from "../errors.ts";
import { applyConfigChange } from "../image/config-change.ts";
import type { ImageStore, ResolvedImage } from "../image/image-store.ts";
import type { ContainerConfig } from "../image/oci-schemas.ts";
import { tarDirectory } from "../image/tar-directory.ts";
import { formatUserSpec } from "../spec/user-spec.ts";
import type { Syscalls } from "../sys/syscalls.ts";

export interface CommitOptions {
  /** REPO[:TAG] of the new image. */
  tag: string;
  /** Dockerfile-style lines applied to the new image's config (`CMD ["app"]`, `ENV A=1`, …). */
  changes?: string[];
  comment?: string;
  author?: string;
  /** Freeze a running container while its layer is read (Docker's default); true by default. */
  pause?: boolean;
  /** The new image's run config as is (a build's RUN step keeps the image's, not the step's). */
  config?: ContainerConfig;
}

/**
 * `container commit`: the container's writable layer (its overlay upper dir) becomes one more
 * layer on top of its image — deletions as whiteouts — and the new image's config is the
 * container's run settings (command, env, working dir, user) with `changes` applied. A --rootfs
 * container's directory first becomes a base layer of its own.
 */
export async function commitContainer(req: {
  state: ContainerState;
  paths: ContainerPaths;
  images: ImageStore;
  cgroups: CgroupDriver;
  sys: Syscalls;
  options: CommitOptions;
}): Promise<ResolvedImage> {
  const { state: s, images, options } = req;
  const parent = s.imageId ? images.resolve(s.imageId) : undefined;
  // Bad --change lines fail here, before any layer is written.
  const config = (options.changes ?? []).reduce<ContainerConfig>(
    applyConfigChange,
    options.config ?? runConfigOf(s, parent?.config.config ?? {}),
  );
  const base =
    parent ??
    (s.options.rootfs
      ? await images.appendLayer(undefined, tarDirectory(s.options.rootfs, { sys: req.sys }), {
          tag: `${options.tag}-base-${s.id.slice(0, 12)}`,
          config: {},
          createdBy: `berth image import ${s.options.rootfs}`,
        })
      : undefined);
  if (!base) {
    throw new RuntimeError(
      "INVALID_STATE",
      `container ${s.name} has neither an image nor a rootfs`,
    );
  }
  const pause = (options.pause ?? true) && s.status === "running";
  if (pause) await req.cgroups.freeze(s.id);
  try {
    const image = await images.appendLayer(
      base,
      tarDirectory(req.paths.upper, { sys: req.sys, overlayUpper: true }),
      {
        tag: options.tag,
        config,
        createdBy: `berth container commit ${s.name}`,
        ...(options.comment ? { comment: options.comment } : {}),
        ...(options.author ? { author: options.author } : {}),
      },
    );
    return image;
  } finally {
    if (pause) await req.cgroups.thaw(s.id);
    // The rootfs's base image was a step on the way: only its layer is kept, under the new image.
    if (!parent) await images.rm(base.tags[0] as string).catch(() => undefined);
  }
}

/** The container's run settings as an image config: what `run` of the new image repeats. */
function runConfigOf(s: ContainerState, imageConfig: ContainerConfig): ContainerConfig {
  const o = s.options;
  const entrypoint = o.entrypoint ?? imageConfig.Entrypoint ?? [];
  const startsWithEntrypoint = entrypoint.every((a, i) => o.command[i] === a);
  const config: ContainerConfig = {
    ...imageConfig,
    Entrypoint: entrypoint.length > 0 && startsWithEntrypoint ? entrypoint : null,
    Cmd: startsWithEntrypoint ? o.command.slice(entrypoint.length) : o.command,
    Env: o.env,
  };
  if (o.workdir) config.WorkingDir = o.workdir;
  if (o.user) config.User = formatUserSpec(o.user);
  return config;
}
