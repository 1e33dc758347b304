// berth-engined: the one long-lived engine process per host. Started detached by `berth up` or by
// the first `berth container …` (see daemon-control.ts); its stdout/stderr go to engine.log.
// Usage: daemon-main.ts --root DIR --run-root DIR [--cgroup-parent NAME] [--bridge NAME]
//   [--subnet CIDR] [--pool-size N]
import fs from "node:fs";
import type http from "node:http";
import { parseArgs } from "node:util";
import { z } from "zod";
import { resolveRuntimeConfig } from "../config.ts";
import { createEngine, type Engine } from "../engine/engine.ts";
import { DAEMON_TITLE, daemonPaths, runningDaemonPid, writePidFile } from "./daemon-files.ts";
import { EngineClient } from "./engine-client.ts";
import { createEngineServer } from "./engine-server.ts";

const argsSchema = z.strictObject({
  root: z.string().startsWith("/"),
  "run-root": z.string().startsWith("/"),
  "cgroup-parent": z.string().optional(),
  bridge: z.string().optional(),
  subnet: z.string().optional(),
  "pool-size": z.coerce.number().int().min(0).max(16).default(2),
  "init-binary": z.string().startsWith("/").default("/bin/busybox"),
});

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: "string" },
      "run-root": { type: "string" },
      "cgroup-parent": { type: "string" },
      bridge: { type: "string" },
      subnet: { type: "string" },
      "pool-size": { type: "string" },
      "init-binary": { type: "string" },
    },
    strict: true,
  });
  const args = argsSchema.parse(values);
  const config = resolveRuntimeConfig({
    root: args.root,
    runRoot: args["run-root"],
    ...(args["cgroup-parent"] ? { cgroupParent: args["cgroup-parent"] } : {}),
    ...(args.bridge ? { bridgeName: args.bridge } : {}),
    ...(args.subnet ? { subnet: args.subnet } : {}),
  });
  // The pid file is checked against /proc/<pid>/cmdline, which the title rewrites; the root stays
  // visible so that an operator (and the test suite's leak check) can tell daemons apart.
  process.title = `${DAEMON_TITLE} --root ${config.root}`;
  fs.mkdirSync(config.runRoot, { recursive: true, mode: 0o700 });
  const paths = daemonPaths(config.runRoot, "/dev/null");
  // The socket is the lock: bind it before making an engine, so that two daemons started at once
  // (two first `berth container` commands) never both drive the same containers.
  let resolveEngine!: (e: Engine) => void;
  let rejectEngine!: (e: unknown) => void;
  const enginePromise = new Promise<Engine>((res, rej) => {
    resolveEngine = res;
    rejectEngine = rej;
  });
  enginePromise.catch(() => {});
  const server = createEngineServer(enginePromise, config);
  if (!(await bindSocket(server, paths.socket))) {
    log(`another engine daemon already serves ${paths.socket}; exiting`);
    return;
  }
  writePidFile(paths.pidFile, process.pid);
  let engine: Engine;
  try {
    engine = await createEngine(config, {
      poolSize: args["pool-size"],
      initBinary: args["init-binary"],
    });
  } catch (e) {
    rejectEngine(e);
    fs.rmSync(paths.socket, { force: true });
    fs.rmSync(paths.pidFile, { force: true });
    throw e;
  }
  resolveEngine(engine);
  log(
    `${DAEMON_TITLE} pid ${process.pid} serving ${paths.socket}; root ${config.root}; ` +
      `${engine.list().length} running container(s) adopted`,
  );
  engine.warm().catch((e: unknown) => log(`warming the zygote pool failed: ${String(e)}`));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping; running containers keep running`);
    server.close();
    server.closeAllConnections();
    await engine.close();
    if (runningDaemonPid(paths.pidFile) === process.pid) fs.rmSync(paths.pidFile, { force: true });
    fs.rmSync(paths.socket, { force: true });
    log("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGHUP", () => {}); // detached from any terminal; never die of a hang-up
  process.on("unhandledRejection", (e) => log(`unhandled rejection: ${String(e)}`));
}

/**
 * Listens on the socket, mode 0600. A socket file nobody answers on is a dead daemon's: replaced.
 * Resolves false when another daemon answers there.
 */
async function bindSocket(server: http.Server, socket: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socket, () => {
          server.off("error", reject);
          resolve();
        });
      });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      const alive = await new EngineClient(socket).ping().then(
        () => true,
        () => false,
      );
      if (alive) return false;
      fs.rmSync(socket, { force: true });
    } finally {
      process.umask(umask);
    }
  }
  throw new Error(`cannot bind ${socket}: another process keeps taking it`);
}

main().catch((e: unknown) => {
  log(`failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
