import type { Command } from "./command.ts";

/**
 * A command whose module is imported only when it runs: `up`/`down`/`status` pull in the database
 * client (~0.7 s to load), which `berth container …` must not pay for.
 */
function lazy(summary: string, usage: string, load: () => Promise<Command>): Command {
  return { summary, usage, run: async (ctx) => (await load()).run(ctx) };
}

/** Every verb of the `berth` command, by name. */
export const commandTable: Record<string, Command> = {
  up: lazy(
    "start Berth on this host (managed Postgres, migrations, engine daemon); idempotent",
    "berth up",
    async () => (await import("./commands/up.ts")).upCommand,
  ),
  down: lazy(
    "stop what 'berth up' started (data is kept; containers keep running)",
    "berth down",
    async () => (await import("./commands/down.ts")).downCommand,
  ),
  status: lazy(
    "show what Berth runs on this host (--json for programs)",
    "berth status [--json]",
    async () => (await import("./commands/status.ts")).statusCommand,
  ),
  container: lazy(
    "manage containers: run, ps, logs, stop, rm, … (see 'berth container help')",
    "berth container <verb> [options]",
    async () => (await import("./commands/container.ts")).containerCommand,
  ),
  image: lazy(
    "manage images: ls, pull, push, tag, rm, prune, import, bootstrap (see 'berth image help')",
    "berth image <verb> [options]",
    async () => (await import("./commands/image.ts")).imageCommand,
  ),
  volume: lazy(
    "manage volumes: create, ls, inspect, rm, prune (see 'berth volume help')",
    "berth volume <verb> [options]",
    async () => (await import("./commands/volume.ts")).volumeCommand,
  ),
  dockerfile: lazy(
    "print a Dockerfile's parse tree in BuildKit's dump format",
    "berth dockerfile parse FILE",
    async () => (await import("./commands/dockerfile.ts")).dockerfileCommand,
  ),
  login: lazy(
    "log in to a container registry (for image pull and push)",
    "berth login -u USER [-p PASSWORD | --password-stdin] REGISTRY",
    async () => (await import("./commands/login.ts")).loginCommand,
  ),
  logout: lazy(
    "forget a registry's stored credentials",
    "berth logout REGISTRY",
    async () => (await import("./commands/login.ts")).logoutCommand,
  ),
};
