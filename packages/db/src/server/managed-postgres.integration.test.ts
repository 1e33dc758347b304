import { spawn } from "node:child_process";
import {
  appendFile,
  chmod,
  mkdir,
  readdir,
  readFile,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManagedPostgresError } from "../errors.ts";
import { createThrowawayRoot } from "../testing/throwaway-postgres.ts";
import { createDataDir, INIT_MARKER } from "./data-directory.ts";
import { ManagedPostgres, type ManagedPostgresOptions } from "./managed-postgres.ts";
import { lookupOsUser } from "./os-user.ts";
import { findFreePort } from "./port-check.ts";
import { isPostmasterOf } from "./postmaster-pid.ts";
import { spawnOptionsFor } from "./run-as-user.ts";
import { cachedCluster } from "./template-cluster.ts";

let root: string;
const servers: ManagedPostgres[] = [];

beforeEach(async () => {
  root = await createThrowawayRoot();
});
afterEach(async () => {
  // Stop by pid whatever a test started, even when it failed half-way.
  for (const server of servers.splice(0)) await server.stop();
  await rm(root, { recursive: true, force: true });
});

async function optionsIn(dir: string, extra: ManagedPostgresOptions = {}) {
  return {
    dataDir: join(dir, "data"),
    socketDir: join(dir, "run"),
    logFile: join(dir, "postgres.log"),
    port: await findFreePort(),
    durable: false,
    ...extra,
  };
}

function track(server: ManagedPostgres): ManagedPostgres {
  servers.push(server);
  return server;
}

async function rejection(promise: Promise<unknown>): Promise<ManagedPostgresError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ManagedPostgresError)) {
    throw new Error(`expected a ManagedPostgresError, got ${String(error)}`);
  }
  return error;
}

async function queryOne<T>(url: string | pg.ClientConfig, sql: string): Promise<T> {
  const client = new pg.Client(typeof url === "string" ? { connectionString: url } : url);
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end();
  }
}

describe("managed Postgres lifecycle", () => {
  it("init → start → running → stop → stopped, keeping data and accepting passwords on TCP", async () => {
    const server = track(new ManagedPostgres(await optionsIn(root)));
    const postgresUser = await lookupOsUser("postgres");

    expect(await server.status()).toMatchObject({ state: "missing", running: false });
    expect(await server.init()).toMatchObject({ created: true, major: 15 });

    const status = await server.status();
    expect(status).toMatchObject({ state: "initialised", initialised: true, running: false });
    expect(status.version).toMatch(/^15\.\d+/);
    const dataDir = await stat(server.options.dataDir);
    expect(dataDir.mode & 0o777).toBe(0o700);
    expect(dataDir.uid).toBe(postgresUser.uid);
    const passwordFile = await stat(server.options.passwordFile);
    expect(passwordFile.mode & 0o777).toBe(0o600);
    expect(passwordFile.uid).toBe(postgresUser.uid);

    // Initialised directories are left alone.
    const before = await readdir(server.options.dataDir);
    expect(await server.init()).toMatchObject({ created: false });
    expect(await readdir(server.options.dataDir)).toEqual(before);

    const started = await server.start();
    expect(started).toMatchObject({
      alreadyRunning: false,
      port: server.options.port,
      socketDir: server.options.socketDir,
    });
    expect(await server.status()).toMatchObject({ running: true, pid: started.pid });
    const socket = await stat(join(server.options.socketDir, `.s.PGSQL.${server.options.port}`));
    expect(socket.mode & 0o777).toBe(0o700);

    // The unix socket (trust) reaches the berth database as superuser.
    const row = await queryOne<{ db: string; user: string }>(
      server.connectionString(),
      "SELECT current_database() AS db, current_user AS user",
    );
    expect(row).toEqual({ db: "berth", user: "postgres" });
    await queryOne(server.connectionString(), "CREATE TABLE kept AS SELECT 42 AS x");

    // TCP on 127.0.0.1 demands the generated password (scram-sha-256).
    const password = (await readFile(server.options.passwordFile, "utf8")).trim();
    const tcp = {
      host: "127.0.0.1",
      port: server.options.port,
      user: "postgres",
      database: "berth",
    };
    await expect(queryOne({ ...tcp, password: "wrong" }, "SELECT 1")).rejects.toThrow(
      /password authentication failed/,
    );
    expect(await queryOne({ ...tcp, password }, "SELECT 1 AS one")).toEqual({ one: 1 });

    // Starting twice is harmless and quick.
    const again = Date.now();
    expect(await server.start()).toMatchObject({ alreadyRunning: true, pid: started.pid });
    expect(Date.now() - again).toBeLessThan(1000);

    expect(await server.stop()).toEqual({ wasRunning: true, pid: started.pid });
    expect(await server.status()).toMatchObject({ running: false, pid: undefined });
    expect(await isPostmasterOf(started.pid, server.options.dataDir)).toBe(false);
    expect(await server.stop()).toEqual({ wasRunning: false, pid: undefined });

    const restarted = await server.start();
    expect(restarted.pid).not.toBe(started.pid);
    expect(await queryOne(server.connectionString(), "SELECT x FROM kept")).toEqual({ x: 42 });
  });

  it("recreates a vanished socket directory (as /run is emptied by a reboot)", async () => {
    const server = track(await cachedCluster(await optionsIn(root)));
    await server.start();
    await server.stop();
    await rm(server.options.socketDir, { recursive: true });
    await server.start();
    const socketDir = await stat(server.options.socketDir);
    expect(socketDir.uid).toBe((await lookupOsUser("postgres")).uid);
    expect(socketDir.mode & 0o777).toBe(0o700);
  });

  it("starts despite a stale postmaster.pid whose pid now belongs to another process", async () => {
    const server = track(await cachedCluster(await optionsIn(root)));
    // Our own pid: alive, but not a postmaster of this directory (like a reused pid after reboot).
    await writeFile(
      join(server.options.dataDir, "postmaster.pid"),
      `${process.pid}\n${server.options.dataDir}\n1\n${server.options.port}\n`,
    );
    expect(await server.status()).toMatchObject({ running: false });
    const started = await server.start();
    expect(started.pid).not.toBe(process.pid);
    expect(await server.status()).toMatchObject({ running: true });
  });
});

describe("managed Postgres refusals", () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
  });

  it("fails with PORT_IN_USE when something else listens on the port", async () => {
    const options = await optionsIn(root);
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(options.port, "127.0.0.1", resolve));
    const server = track(await cachedCluster(options));

    const error = await rejection(server.start());
    expect(error.code).toBe("PORT_IN_USE");
    expect(error.context.port).toBe(options.port);
    expect(error.message).toContain(`port ${options.port}`);
    expect(await server.status()).toMatchObject({ running: false });
  });

  it("refuses a half-initialised directory (initdb interrupted) without touching it", async () => {
    const options = await optionsIn(root);
    await mkdir(join(options.dataDir, "base"), { recursive: true });
    await writeFile(join(options.dataDir, "postgresql.conf"), "# partial\n");
    const server = track(new ManagedPostgres(options));

    // One at a time: a second promise made up front would reject before anyone awaits it.
    for (const attempt of [() => server.init(), () => server.start()]) {
      const error = await rejection(attempt());
      expect(error.code).toBe("HALF_INITIALISED");
      expect(error.context.path).toBe(options.dataDir);
      expect(error.message).toContain(`rm -rf ${options.dataDir}`);
    }
    expect((await readdir(options.dataDir)).sort()).toEqual(["base", "postgresql.conf"]);
  });

  it("refuses a directory left by an initdb killed mid-way", async () => {
    const options = await optionsIn(root);
    const user = await lookupOsUser("postgres");
    await createDataDir(options.dataDir, user);
    const initdb = spawn(
      "/usr/lib/postgresql/15/bin/initdb",
      ["-D", options.dataDir, "-U", "postgres", "--no-sync"],
      { ...spawnOptionsFor(user), stdio: "ignore" },
    );
    const exited = new Promise((resolve) => initdb.once("exit", resolve));
    while ((await readdir(options.dataDir)).length === 0) await sleep(5);
    initdb.kill("SIGKILL"); // no chance to clean up, as with a power cut
    await exited;

    const left = await readdir(options.dataDir);
    expect(left).not.toContain(INIT_MARKER);
    const error = await rejection(new ManagedPostgres(options).init());
    expect(error.code).toBe("HALF_INITIALISED");
    expect(error.message).toContain(options.dataDir);
    expect(await readdir(options.dataDir)).toEqual(left);
  });

  it("refuses a cluster whose setup stopped after initdb (no marker)", async () => {
    const options = await optionsIn(root);
    const server = track(await cachedCluster(options));
    await unlink(join(options.dataDir, INIT_MARKER));
    expect((await rejection(server.init())).code).toBe("HALF_INITIALISED");
    expect((await rejection(server.start())).code).toBe("HALF_INITIALISED");
    expect(await server.status()).toMatchObject({ state: "half-initialised", running: false });
  });

  it("fails with DATA_DIR_NOT_WRITABLE for a path under a regular file", async () => {
    await writeFile(join(root, "file"), "not a directory");
    const dataDir = join(root, "file", "data");
    const server = track(new ManagedPostgres(await optionsIn(root, { dataDir })));
    const error = await rejection(server.init());
    expect(error.code).toBe("DATA_DIR_NOT_WRITABLE");
    expect(error.context.path).toBe(dataDir);
    expect(error.message).toContain(dataDir);
  });

  it("fails with DATA_DIR_NOT_WRITABLE when the postgres user cannot reach the directory", async () => {
    const locked = join(root, "locked");
    await mkdir(locked, { mode: 0o700 }); // root-only: postgres cannot search it
    await chmod(locked, 0o700);
    const dataDir = join(locked, "data");
    const error = await rejection(new ManagedPostgres(await optionsIn(root, { dataDir })).init());
    expect(error.code).toBe("DATA_DIR_NOT_WRITABLE");
    expect(error.message).toContain('OS user "postgres" cannot write');
  });

  it("refuses to start an uninitialised directory", async () => {
    const error = await rejection(new ManagedPostgres(await optionsIn(root)).start());
    expect(error.code).toBe("NOT_INITIALISED");
  });

  it("names the package to install when the binaries are missing", async () => {
    const binariesRoot = join(root, "no-postgres-here");
    await mkdir(binariesRoot);
    const error = await rejection(
      new ManagedPostgres(await optionsIn(root, { binariesRoot })).init(),
    );
    expect(error.code).toBe("BINARIES_MISSING");
    expect(error.message).toContain("apt-get install postgresql");
  });

  it("fails with START_FAILED carrying the server's own complaint from the log", async () => {
    const options = await optionsIn(root);
    const server = track(await cachedCluster(options));
    await appendFile(join(options.dataDir, "postgresql.conf"), "\nthis is = not valid = conf\n");
    const error = await rejection(server.start());
    expect(error.code).toBe("START_FAILED");
    expect(error.context.logTail?.join("\n")).toMatch(/syntax error/);
    expect(error.message).toContain(options.logFile);
    expect(await server.status()).toMatchObject({ running: false });
  });
});
