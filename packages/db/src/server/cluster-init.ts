import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { describeCause, ManagedPostgresError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import {
  createDataDir,
  halfInitialisedError,
  inspectDataDir,
  writeInitMarker,
} from "./data-directory.ts";
import type { ResolvedOptions } from "./options.ts";
import { lookupOsUser, type OsUser } from "./os-user.ts";
import { findPgBinaries, type PgBinaries, serverVersion } from "./pg-binaries.ts";
import { writeServerConfig } from "./postgres-config.ts";
import { lastLines, runAsUser } from "./run-as-user.ts";

/**
 * How every Berth cluster is initialised. Bump `recipe` when the steps change, so cached template
 * clusters (keyed on this object) are rebuilt.
 */
export const INIT_RECIPE = {
  recipe: 1,
  superuser: "postgres",
  database: "berth",
  encoding: "UTF8",
  // C.UTF-8 is built into glibc (no locale package needed) and sorts by code point: stable everywhere.
  locale: "C.UTF-8",
  authLocal: "trust",
  authHost: "scram-sha-256",
} as const;

/** What init() did. */
export interface InitResult {
  /** false when the directory was already initialised and left alone. */
  created: boolean;
  dataDir: string;
  /** Postgres major version of the cluster. */
  major: number;
}

const ACTION = "initialise managed Postgres";

/** Runs initdb and Berth's setup in an empty or missing data directory; leaves an initialised one alone. */
export async function initCluster(options: ResolvedOptions): Promise<InitResult> {
  const { dataDir } = options;
  const state = await inspectDataDir(dataDir);
  if (state.kind === "initialised") return { created: false, dataDir, major: state.major };
  if (state.kind === "half-initialised") throw halfInitialisedError(dataDir, state.reason, ACTION);
  if (state.kind === "not-a-directory") {
    throw new ManagedPostgresError(
      "DATA_DIR_NOT_WRITABLE",
      "the path exists but is not a directory",
      {
        action: ACTION,
        path: dataDir,
        hint: "Choose another data directory, or move that file away.",
      },
    );
  }

  const binaries = await findPgBinaries(options.binariesRoot);
  const user = await lookupOsUser(options.osUser);
  await createDataDir(dataDir, user);
  await writeSuperuserPassword(options.passwordFile, user);
  await runInitdb(binaries, user, options);
  await writeServerConfig(
    dataDir,
    { port: options.port, socketDir: options.socketDir, durable: options.durable },
    user,
  );
  await createBerthDatabase(binaries, user, dataDir);
  await writeInitMarker(
    dataDir,
    {
      postgresMajor: binaries.major,
      postgresVersion: await serverVersion(binaries),
      initialisedAt: new Date().toISOString(),
    },
    user,
  );
  return { created: true, dataDir, major: binaries.major };
}

/** A fresh random password, readable by the OS user (initdb --pwfile) and root only. */
async function writeSuperuserPassword(passwordFile: string, user: OsUser): Promise<void> {
  const password = randomBytes(24).toString("base64url");
  try {
    await mkdir(dirname(passwordFile), { recursive: true, mode: 0o755 });
    await writeFileAtomic(passwordFile, `${password}\n`, {
      mode: 0o600,
      owner: { uid: user.uid, gid: user.gid },
    });
  } catch (error) {
    throw new ManagedPostgresError(
      "DATA_DIR_NOT_WRITABLE",
      `cannot write the superuser password file (${describeCause(error)})`,
      {
        action: ACTION,
        path: passwordFile,
        hint: "Make its directory writable, or pass another passwordFile.",
        cause: error,
      },
    );
  }
}

async function runInitdb(
  binaries: PgBinaries,
  user: OsUser,
  options: ResolvedOptions,
): Promise<void> {
  const argv: [string, ...string[]] = [
    binaries.initdb,
    "--pgdata",
    options.dataDir,
    "--username",
    INIT_RECIPE.superuser,
    `--auth-local=${INIT_RECIPE.authLocal}`,
    `--auth-host=${INIT_RECIPE.authHost}`,
    `--encoding=${INIT_RECIPE.encoding}`,
    `--locale=${INIT_RECIPE.locale}`,
    `--pwfile=${options.passwordFile}`,
    "--no-instructions",
    ...(options.durable ? [] : ["--no-sync"]),
  ];
  const result = await runAsUser(user, argv, { timeoutMs: 5 * 60_000 });
  if (result.exitCode !== 0) {
    throw new ManagedPostgresError("INIT_FAILED", `initdb exited with ${exitOf(result)}`, {
      action: ACTION,
      path: options.dataDir,
      hint: "initdb removes what it created when it fails; if the directory is not empty now, move it aside before retrying.",
      logTail: lastLines(`${result.stdout}\n${result.stderr}`),
    });
  }
}

/**
 * Creates the `berth` database in single-user mode: no socket or port is opened, so init works
 * even while the configured port is taken. exit_on_error makes a failed statement a failed exit.
 */
async function createBerthDatabase(
  binaries: PgBinaries,
  user: OsUser,
  dataDir: string,
): Promise<void> {
  const result = await runAsUser(
    user,
    [binaries.postgres, "--single", "-D", dataDir, "-c", "exit_on_error=on", "template1"],
    { stdin: `CREATE DATABASE ${INIT_RECIPE.database};\n`, timeoutMs: 60_000 },
  );
  if (result.exitCode !== 0) {
    throw new ManagedPostgresError(
      "INIT_FAILED",
      `creating the "${INIT_RECIPE.database}" database exited with ${exitOf(result)}`,
      {
        action: ACTION,
        path: dataDir,
        hint: "The directory is now half-initialised: move it aside or remove it, then run init again.",
        logTail: lastLines(`${result.stdout}\n${result.stderr}`),
      },
    );
  }
}

function exitOf(result: { exitCode: number | null; signal: string | null }): string {
  return result.signal === null ? `code ${result.exitCode}` : `signal ${result.signal}`;
}
