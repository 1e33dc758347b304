import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import {
  addonAttachments,
  addons,
  apiTokens,
  apps,
  builds,
  collaborators,
  configVars,
  domains,
  dynos,
  events,
  formation,
  releases,
  sessions,
  sshKeys,
  users,
} from "./schema/index.ts";

/** The tables drizzle's relational query API (`db.query.apps…`) knows about. */
export const tables = {
  users,
  sessions,
  sshKeys,
  apiTokens,
  apps,
  collaborators,
  configVars,
  domains,
  builds,
  releases,
  formation,
  dynos,
  addons,
  addonAttachments,
  events,
};

/** The drizzle handle every Berth service takes. */
export type BerthDb = NodePgDatabase<typeof tables>;

/** A database handle and the pool under it; close() when done. */
export interface Database {
  db: BerthDb;
  pool: pg.Pool;
  /** Ends every pooled connection; safe to call twice. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Most connections the pool opens at once (pg's default is 10). */
  maxConnections?: number;
  /**
   * Called when an idle pooled connection breaks (server restart, network). Without a listener pg
   * would crash the process; the pool drops the connection and the next query opens a new one.
   */
  onIdleConnectionError?: (error: Error) => void;
}

/**
 * Opens a pool for `url`: `postgresql://user:pass@127.0.0.1:5433/berth`, or a unix socket
 * directory such as `postgresql://berth@/berth?host=/run/berth/postgres&port=5433`.
 */
export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections });
  pool.on("error", options.onIdleConnectionError ?? (() => {}));
  const db = drizzle({ client: pool, schema: tables });
  let closing: Promise<void> | undefined;
  return {
    db,
    pool,
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
