/**
 * The Postgres server Berth runs for itself when no DATABASE_URL is given: Debian's binaries, a
 * data directory owned by the `postgres` OS user, listening on 127.0.0.1 and a unix socket.
 *
 *   const pg = new ManagedPostgres({ port: 5433 });
 *   await pg.init();   // idempotent
 *   await pg.start();  // idempotent
 *   await runMigrations(pg.connectionString());
 */
import { INIT_RECIPE, type InitResult, initCluster } from "./cluster-init.ts";
import { type StartResult, startCluster } from "./cluster-start.ts";
import { type StopResult, stopCluster } from "./cluster-stop.ts";
import { type DataDirState, inspectDataDir, readInitMarker } from "./data-directory.ts";
import { type ManagedPostgresOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { readRunningPostmaster } from "./postmaster-pid.ts";

export type { InitResult, ManagedPostgresOptions, ResolvedOptions, StartResult, StopResult };

/** A snapshot of the server for `berth status`. */
export interface ManagedPostgresStatus {
  dataDir: string;
  /** What the data directory holds: missing, empty, initialised, half-initialised, not-a-directory. */
  state: DataDirState["kind"];
  initialised: boolean;
  running: boolean;
  pid: number | undefined;
  /** The port the server listens on (the configured one when stopped). */
  port: number;
  socketDir: string;
  /** Server version the cluster was initialised with, e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  version: string | undefined;
  logFile: string;
  passwordFile: string;
}

export class ManagedPostgres {
  readonly options: ResolvedOptions;

  /** Validates options (throws INVALID_OPTIONS); touches nothing on disk. */
  constructor(options: ManagedPostgresOptions = {}) {
    this.options = resolveOptions(options);
  }

  /** Creates the cluster and the `berth` database if the data directory is missing or empty. */
  init(): Promise<InitResult> {
    return initCluster(this.options);
  }

  /** Starts the server and waits until it accepts connections; returns at once if it runs. */
  start(): Promise<StartResult> {
    return startCluster(this.options);
  }

  /** Stops the server (fast shutdown: sessions are cut, data is kept); a no-op when stopped. */
  stop(): Promise<StopResult> {
    return stopCluster(this.options);
  }

  /** Reports the data directory's state and whether the server runs; never throws for a stopped server. */
  async status(): Promise<ManagedPostgresStatus> {
    const { dataDir, socketDir, port, logFile, passwordFile } = this.options;
    const state = await inspectDataDir(dataDir);
    const running = state.kind === "initialised" ? await readRunningPostmaster(dataDir) : undefined;
    const marker = state.kind === "initialised" ? await readInitMarker(dataDir) : undefined;
    return {
      dataDir,
      state: state.kind,
      initialised: state.kind === "initialised",
      running: running !== undefined,
      pid: running?.pid,
      port: running?.port ?? port,
      socketDir: running?.socketDir || socketDir,
      version: marker?.postgresVersion,
      logFile,
      passwordFile,
    };
  }

  /** URL of `database` (default `berth`) as superuser over the unix socket (trust, no password). */
  connectionString(database: string = INIT_RECIPE.database): string {
    const host = encodeURIComponent(this.options.socketDir).replaceAll("%2F", "/");
    return `postgresql://${INIT_RECIPE.superuser}@/${encodeURIComponent(database)}?host=${host}&port=${this.options.port}`;
  }
}
