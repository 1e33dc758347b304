import { readMigrationStatus } from "@berth/db/migration-status";
import { type DaemonStatus, daemonStatus } from "@berth/runtime/daemon";
import type { CliEnv } from "../env.ts";
import type { Reporter } from "../reporter.ts";
import { databaseUrl, managedPostgres, redactUrl } from "./database-service.ts";
import { engineDaemonSettings } from "./engine-daemon.ts";

/** What `berth status` reports; also the JSON of `berth status --json`. */
export interface BerthStatus {
  healthy: boolean;
  postgres: {
    managed: boolean;
    running: boolean;
    pid?: number;
    dataDir?: string;
    state?: string;
    port?: number;
    socketDir?: string;
    version?: string;
    logFile?: string;
    url: string;
  };
  migrations: { applied: number; pending: number } | { error: string };
  /** The container engine daemon (berth-engined). */
  engine: DaemonStatus;
}

export async function readStatus(env: CliEnv): Promise<BerthStatus> {
  const managed = managedPostgres(env);
  const url = databaseUrl(env, managed);
  const pg = managed ? await managed.status() : undefined;
  const reachable = !managed || pg?.running === true;
  const migrations = reachable
    ? await readMigrationStatus(url).catch((error: unknown) => ({
        error: error instanceof Error ? error.message : String(error),
      }))
    : { error: "Postgres is not running" };
  const postgres: BerthStatus["postgres"] = pg
    ? {
        managed: true,
        running: pg.running,
        pid: pg.pid,
        dataDir: pg.dataDir,
        state: pg.state,
        port: pg.port,
        socketDir: pg.socketDir,
        version: pg.version,
        logFile: pg.logFile,
        url,
      }
    : { managed: false, running: !("error" in migrations), url: redactUrl(url) };
  const engine = daemonStatus(engineDaemonSettings(env));
  const healthy =
    postgres.running && !("error" in migrations) && migrations.pending === 0 && engine.running;
  return { healthy, postgres, migrations, engine };
}

export function printStatus(status: BerthStatus, out: Reporter): void {
  const pg = status.postgres;
  const where = pg.managed
    ? `pid ${pg.pid ?? "-"}  ${pg.socketDir} and 127.0.0.1:${pg.port}`
    : pg.url;
  const pgState = pg.running
    ? "running"
    : pg.managed
      ? `stopped (data directory ${pg.state})`
      : "unreachable";
  const m = status.migrations;
  const migrations =
    "error" in m ? `unknown: ${m.error}` : `${m.applied} applied, ${m.pending} pending`;
  out.print(`postgres    ${pgState}${pg.running ? `  ${where}` : ""}`);
  if (pg.managed) out.print(`            data ${pg.dataDir}  log ${pg.logFile}`);
  out.print(`migrations  ${migrations}`);
  out.print(`database    ${pg.url}`);
  const e = status.engine;
  out.print(
    `engine      ${e.running ? `running  pid ${e.pid}  ${e.socket}` : "stopped"}  log ${e.logFile}`,
  );
  out.print(status.healthy ? "Berth is up." : "Berth is not fully up: run './berth up'.");
}
