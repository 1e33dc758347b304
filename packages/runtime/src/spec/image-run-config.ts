import { RuntimeError } from "../errors.ts";
import type { ContainerConfig } from "../image/oci-schemas.ts";
import { mergeEnv } from "./env.ts";
import type { RunOptions } from "./run-options.ts";
import { parseStopSignal } from "./stop-options.ts";
import { parseUserSpec } from "./user-spec.ts";

/**
 * The options a container of an image actually runs with, by Docker's rules: the command is
 * Entrypoint + Cmd, where a command after the image replaces Cmd and --entrypoint replaces
 * Entrypoint and drops Cmd; the image's Env comes first and -e/--env-file override it by name;
 * -w, -u and --stop-signal win over WorkingDir, User and StopSignal.
 */
export function applyImageConfig(
  options: RunOptions,
  config: ContainerConfig,
  imageName: string,
): RunOptions {
  const entrypoint = options.entrypoint ?? config.Entrypoint ?? [];
  const cmd =
    options.command.length > 0
      ? options.command
      : options.entrypoint !== undefined
        ? []
        : (config.Cmd ?? []);
  const command = [...entrypoint, ...cmd];
  if (command.length === 0) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `no command to run: image ${imageName} has no Entrypoint or Cmd; give one after the image name`,
      { image: imageName },
    );
  }
  const applied: RunOptions = { ...options, command, env: mergeEnv(config.Env ?? [], options.env) };
  const workdir = options.workdir ?? (config.WorkingDir || undefined);
  if (workdir !== undefined) {
    // Docker takes a relative WorkingDir from the image as relative to /.
    applied.workdir = workdir.startsWith("/") ? workdir : `/${workdir}`;
  }
  const user =
    options.user ??
    (config.User
      ? imageValue("User", imageName, () => parseUserSpec(config.User as string))
      : undefined);
  if (user !== undefined) applied.user = user;
  const stopSignal =
    options.stopSignal ??
    (config.StopSignal
      ? imageValue("StopSignal", imageName, () => parseStopSignal(config.StopSignal as string))
      : undefined);
  if (stopSignal !== undefined) applied.stopSignal = stopSignal;
  return applied;
}

/** A bad value in an image's config names the image, not a flag the user never gave. */
function imageValue<T>(field: string, imageName: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `image ${imageName} has an invalid ${field}: ${(e as Error).message}`,
      { image: imageName },
    );
  }
}
