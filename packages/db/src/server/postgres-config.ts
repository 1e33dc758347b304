import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import type { OsUser } from "./os-user.ts";

/**
 * Berth's settings live in their own file, included from postgresql.conf, and are rewritten from
 * the options on every start: the options are the single source of truth, and postgresql.conf
 * stays the operator's to tune.
 */
export const BERTH_CONF = "berth.conf";
const INCLUDE_LINE = `include '${BERTH_CONF}'`;

/** The settings Berth controls. */
export interface ServerSettings {
  port: number;
  socketDir: string;
  durable: boolean;
}

/** Quotes a postgresql.conf string value (backslashes are escapes there, quotes are doubled). */
export function quoteConfValue(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** Renders berth.conf for `settings`. */
export function renderBerthConf(settings: ServerSettings): string {
  const lines = [
    "# Written by Berth on every start from the managed Postgres options; edit those instead.",
    "listen_addresses = '127.0.0.1'",
    `port = ${settings.port}`,
    `unix_socket_directories = ${quoteConfValue(settings.socketDir)}`,
    "# Only the postgres user and root may use the socket, where authentication is trust.",
    "unix_socket_permissions = 0700",
    "password_encryption = 'scram-sha-256'",
    // The postmaster's stderr already goes to the log file start() opened.
    "logging_collector = off",
  ];
  if (!settings.durable) {
    lines.push(
      "# Throwaway test cluster: trade crash safety for speed.",
      "fsync = off",
      "synchronous_commit = off",
      "full_page_writes = off",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** postgresql.conf with the include of berth.conf appended, or unchanged if already there. */
export function withBerthInclude(postgresqlConf: string): string {
  if (postgresqlConf.split("\n").some((line) => line.trim() === INCLUDE_LINE)) {
    return postgresqlConf;
  }
  const separator = postgresqlConf.endsWith("\n") || postgresqlConf === "" ? "" : "\n";
  // Last in the file, so Berth's values win over anything set above.
  return `${postgresqlConf}${separator}\n# Added by Berth: listen address, port and socket.\n${INCLUDE_LINE}\n`;
}

/** Writes berth.conf and makes sure postgresql.conf includes it; files stay owned by `user`. */
export async function writeServerConfig(
  dataDir: string,
  settings: ServerSettings,
  user: OsUser,
): Promise<void> {
  const owner = { uid: user.uid, gid: user.gid };
  await writeFileAtomic(join(dataDir, BERTH_CONF), renderBerthConf(settings), {
    mode: 0o600,
    owner,
  });
  const mainConf = join(dataDir, "postgresql.conf");
  const current = await readFile(mainConf, "utf8");
  const updated = withBerthInclude(current);
  if (updated !== current) await writeFileAtomic(mainConf, updated, { mode: 0o600, owner });
}
