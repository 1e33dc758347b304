/**
 * Throwaway Postgres servers for integration and end-to-end tests of any package. Each lives in a
 * /tmp/berth-test-pg-* directory (scripts/check-leaks.sh finds leftovers by that name) and starts
 * from the cached template cluster, so no test pays for initdb.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { ManagedPostgres } from "../server/managed-postgres.ts";
import { findFreePort } from "../server/port-check.ts";
import { cachedCluster } from "../server/template-cluster.ts";

/** A running test server and how to get rid of it. */
export interface ThrowawayPostgres {
  server: ManagedPostgres;
  /** Temporary directory holding data, socket and log. */
  root: string;
  /** URL of its `berth` database over the unix socket. */
  connectionString: string;
  /** Stops the server and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

/** Creates an empty /tmp/berth-test-pg-* directory that the postgres OS user can traverse. */
export async function createThrowawayRoot(prefix = "berth-test-pg-"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await chmod(root, 0o755); // mkdtemp makes it 0700, which would lock the postgres user out
  return root;
}

/** Starts a non-durable Postgres on a free 127.0.0.1 port in a fresh temporary directory. */
export async function startThrowawayPostgres(
  options: { cacheDir?: string } = {},
): Promise<ThrowawayPostgres> {
  const root = await createThrowawayRoot();
  let server: ManagedPostgres | undefined;
  const destroy = async () => {
    try {
      await server?.stop();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
  try {
    server = await cachedCluster({
      ...options,
      dataDir: join(root, "data"),
      socketDir: join(root, "run"),
      logFile: join(root, "postgres.log"),
      port: await findFreePort(),
      durable: false,
    });
    await server.start();
    return { server, root, connectionString: server.connectionString(), destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/** Replaces the database name in a `postgresql://…/<db>?…` URL. */
export function withDatabase(url: string, database: string): string {
  const match = /^(postgres(?:ql)?:\/\/[^/]*\/)([^?]*)(.*)$/.exec(url);
  if (match === null) throw new Error(`not a postgresql:// URL with a database: ${url}`);
  return `${match[1]}${encodeURIComponent(database)}${match[3]}`;
}

/** Creates an empty database with a random name on the server at `url`, and returns its URL. */
export async function createScratchDatabase(url: string, prefix = "berth_test"): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return withDatabase(url, name);
}
