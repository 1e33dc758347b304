import { chmod, chown, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describeCause, hasErrno, ManagedPostgresError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { OsUser } from "./os-user.ts";
import { canWriteAs } from "./run-as-user.ts";

/**
 * Written into the data directory as the very last step of init(). initdb, the config and the
 * `berth` database all exist once it does; without it the directory is not to be trusted.
 */
export const INIT_MARKER = "berth-initialised.json";

/** What the marker records, for status output and future upgrades. */
export interface InitMarker {
  postgresMajor: number;
  postgresVersion: string;
  initialisedAt: string;
}

/** What a data directory holds, decided from its files alone. */
export type DataDirState =
  | { kind: "missing" }
  | { kind: "empty" }
  | { kind: "initialised"; major: number }
  | { kind: "half-initialised"; reason: string }
  | { kind: "not-a-directory" };

/** Classifies `dataDir` without changing it. */
export async function inspectDataDir(dataDir: string): Promise<DataDirState> {
  let entries: string[];
  try {
    const info = await stat(dataDir);
    if (!info.isDirectory()) return { kind: "not-a-directory" };
    entries = await readdir(dataDir);
  } catch (error) {
    if (hasErrno(error, "ENOENT")) return { kind: "missing" };
    if (hasErrno(error, "ENOTDIR")) return { kind: "not-a-directory" };
    throw error;
  }
  if (entries.length === 0) return { kind: "empty" };

  const hasMarker = entries.includes(INIT_MARKER);
  const pgVersion = entries.includes("PG_VERSION")
    ? (await readFile(join(dataDir, "PG_VERSION"), "utf8")).trim()
    : undefined;
  if (pgVersion === undefined) {
    return {
      kind: "half-initialised",
      reason: hasMarker
        ? "it has Berth's init marker but no PG_VERSION (files were removed)"
        : "it is not empty but has no PG_VERSION (initdb was interrupted, or the directory holds something else)",
    };
  }
  if (!hasMarker) {
    return {
      kind: "half-initialised",
      reason: `it has PG_VERSION but no ${INIT_MARKER} (setup was interrupted after initdb)`,
    };
  }
  const major = Number(pgVersion);
  if (!Number.isInteger(major)) {
    return { kind: "half-initialised", reason: `PG_VERSION holds "${pgVersion}"` };
  }
  return { kind: "initialised", major };
}

/** The error for a directory that must be neither reused nor deleted automatically. */
export function halfInitialisedError(dataDir: string, reason: string, action: string) {
  return new ManagedPostgresError("HALF_INITIALISED", `the data directory is unusable: ${reason}`, {
    action,
    path: dataDir,
    hint:
      `Berth never reuses or deletes such a directory by itself. Move it aside ` +
      `(mv ${dataDir} ${dataDir}.broken) to keep it for inspection, or remove it ` +
      `(rm -rf ${dataDir}) if it holds nothing you need, then run init again.`,
  });
}

function notWritable(path: string, problem: string, cause?: unknown) {
  return new ManagedPostgresError("DATA_DIR_NOT_WRITABLE", problem, {
    action: "create the Postgres data directory",
    path,
    hint: "Choose a data directory on a writable filesystem whose parents are directories, or fix the permissions.",
    cause,
  });
}

/**
 * Creates `dataDir` (and its parents, root-owned 0755) as a 0700 directory owned by `user`, and
 * checks that `user` can reach it. Throws DATA_DIR_NOT_WRITABLE naming the path.
 */
export async function createDataDir(dataDir: string, user: OsUser): Promise<void> {
  try {
    await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chown(dataDir, user.uid, user.gid);
    await chmod(dataDir, 0o700); // initdb insists on 0700 or 0750
  } catch (error) {
    throw notWritable(dataDir, `cannot create it (${describeCause(error)})`, error);
  }
  if (!(await canWriteAs(user, dataDir))) {
    throw notWritable(
      dataDir,
      `OS user "${user.name}" cannot write to it (a parent directory may lack search permission for others)`,
    );
  }
}

/** Records a complete init; called last, so its presence proves every earlier step finished. */
export async function writeInitMarker(
  dataDir: string,
  marker: InitMarker,
  user: OsUser,
): Promise<void> {
  await writeFileAtomic(join(dataDir, INIT_MARKER), `${JSON.stringify(marker, null, 2)}\n`, {
    mode: 0o600,
    owner: { uid: user.uid, gid: user.gid },
  });
}

/** Reads the marker of an initialised directory, or undefined when absent or unreadable. */
export async function readInitMarker(dataDir: string): Promise<InitMarker | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, INIT_MARKER), "utf8")) as InitMarker;
  } catch {
    return undefined;
  }
}
