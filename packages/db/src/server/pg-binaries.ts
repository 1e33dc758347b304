import { execFile } from "node:child_process";
import { access, constants, readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ManagedPostgresError } from "../errors.ts";

const execFileAsync = promisify(execFile);

/** The server programs of one installed Postgres major version. */
export interface PgBinaries {
  major: number;
  binDir: string;
  initdb: string;
  postgres: string;
}

const REQUIRED = ["initdb", "postgres"] as const;

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Installed majors under `root` (Debian's /usr/lib/postgresql/<major>/bin), newest first. */
export async function installedMajors(root: string): Promise<number[]> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const majors: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const binDir = join(root, entry, "bin");
    const complete = await Promise.all(REQUIRED.map((name) => isExecutable(join(binDir, name))));
    if (complete.every(Boolean)) majors.push(Number(entry));
  }
  return majors.sort((a, b) => b - a);
}

/**
 * Finds the server binaries: `major` when an existing cluster needs that version (data directories
 * only work with their own major), otherwise the newest installed. Throws BINARIES_MISSING.
 */
export async function findPgBinaries(root: string, major?: number): Promise<PgBinaries> {
  const majors = await installedMajors(root);
  const chosen = major === undefined ? majors[0] : majors.find((m) => m === major);
  if (chosen === undefined) {
    const wanted = major === undefined ? "any version" : `version ${major}`;
    const found = majors.length === 0 ? "none" : majors.join(", ");
    throw new ManagedPostgresError(
      "BINARIES_MISSING",
      `no PostgreSQL server binaries of ${wanted} (installed: ${found})`,
      {
        action: "find the PostgreSQL server binaries",
        path: major === undefined ? root : join(root, String(major), "bin"),
        hint: `Install them: apt-get install postgresql${major === undefined ? "" : `-${major}`}`,
      },
    );
  }
  const binDir = join(root, String(chosen), "bin");
  return {
    major: chosen,
    binDir,
    initdb: join(binDir, "initdb"),
    postgres: join(binDir, "postgres"),
  };
}

/** The full server version, e.g. "15.18 (Debian 15.18-0+deb12u1)", from `postgres --version`. */
export async function serverVersion(binaries: PgBinaries): Promise<string> {
  const { stdout } = await execFileAsync(binaries.postgres, ["--version"]);
  return stdout.trim().replace(/^postgres \(PostgreSQL\) /, "");
}
