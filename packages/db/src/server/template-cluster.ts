import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describeCause, hasErrno, ManagedPostgresError } from "../errors.ts";
import { INIT_RECIPE } from "./cluster-init.ts";
import { halfInitialisedError, inspectDataDir } from "./data-directory.ts";
import { ManagedPostgres } from "./managed-postgres.ts";
import { type ManagedPostgresOptions, resolveOptions } from "./options.ts";
import { lookupOsUser } from "./os-user.ts";
import { findPgBinaries, serverVersion } from "./pg-binaries.ts";

const execFileAsync = promisify(execFile);

/**
 * initdb takes 1.3 s here; copying an initialised cluster takes ~90 ms. Throwaway servers (tests,
 * e2e fixtures) therefore copy a template that is built once per Postgres version and init recipe.
 */
export const DEFAULT_CACHE_DIR = "/var/cache/berth";

/** Options for cached clusters: the server options plus where templates are kept. */
export type CachedClusterOptions = ManagedPostgresOptions & { cacheDir?: string };

/** A pre-initialised cluster to copy from. */
export interface TemplateCluster {
  dir: string;
  dataDir: string;
  passwordFile: string;
  /** true when this call had to build it. */
  built: boolean;
}

/**
 * Where the template for these inputs lives: `<cacheDir>/pg-template-<hash>`, the hash covering
 * everything that makes two initialised clusters differ (the owner too, as cp -a keeps owners).
 */
export function templateDir(
  cacheDir: string,
  inputs: { version: string; owner: [string, number, number]; durable: boolean },
): string {
  const key = JSON.stringify({ ...inputs, recipe: INIT_RECIPE });
  return join(
    cacheDir,
    `pg-template-${createHash("sha256").update(key).digest("hex").slice(0, 16)}`,
  );
}

/** Returns the template for these options' Postgres version and init recipe, building it if missing. */
export async function createTemplateCluster(
  options: CachedClusterOptions = {},
): Promise<TemplateCluster> {
  const { cacheDir = DEFAULT_CACHE_DIR, ...serverOptions } = options;
  const resolved = resolveOptions(serverOptions);
  const binaries = await findPgBinaries(resolved.binariesRoot);
  const user = await lookupOsUser(resolved.osUser);
  const dir = templateDir(cacheDir, {
    version: await serverVersion(binaries),
    owner: [user.name, user.uid, user.gid],
    durable: resolved.durable,
  });
  const template = { dir, dataDir: join(dir, "data"), passwordFile: join(dir, "data.password") };

  const state = await inspectDataDir(template.dataDir);
  if (state.kind === "initialised") return { ...template, built: false };
  if (state.kind !== "missing") {
    // A cache, not anyone's data: a broken template is thrown away and rebuilt.
    await rm(dir, { recursive: true, force: true });
  }

  // Build beside the final place and rename into it, so a concurrent builder or a crash never
  // leaves a half-built template under the final name.
  const building = `${dir}.building-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(building, { recursive: true, mode: 0o755 });
  try {
    await new ManagedPostgres({
      ...serverOptions,
      dataDir: join(building, "data"),
      passwordFile: join(building, "data.password"),
    }).init();
    await rename(building, dir);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (!hasErrno(error, "ENOTEMPTY", "EEXIST")) throw error;
    // Another process finished first; its template is as good as ours.
  }
  const built = await inspectDataDir(template.dataDir);
  if (built.kind !== "initialised") {
    throw new ManagedPostgresError(
      "INIT_FAILED",
      "the template cluster is unusable after building",
      {
        action: "build a cached Postgres cluster",
        path: dir,
        hint: `Something else occupies that path; remove it (rm -rf ${dir}) and run again.`,
      },
    );
  }
  return { ...template, built: true };
}

/**
 * Fills `options.dataDir` with a copy of the template (built once, see createTemplateCluster) and
 * returns a ManagedPostgres for it, ready to start(). An already initialised dataDir is kept.
 */
export async function cachedCluster(options: CachedClusterOptions = {}): Promise<ManagedPostgres> {
  const { cacheDir, ...serverOptions } = options;
  const server = new ManagedPostgres(serverOptions);
  const { dataDir, passwordFile } = server.options;
  const state = await inspectDataDir(dataDir);
  if (state.kind === "initialised") return server;
  if (state.kind === "half-initialised") {
    throw halfInitialisedError(dataDir, state.reason, "copy a cached Postgres cluster");
  }

  const template = await createTemplateCluster(options);
  try {
    await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
    if (state.kind === "empty") await rmdir(dataDir); // cp -a copies *into* an existing directory
    await execFileAsync("cp", ["-a", "--reflink=auto", template.dataDir, dataDir]);
    await execFileAsync("cp", ["-a", template.passwordFile, passwordFile]);
  } catch (error) {
    throw new ManagedPostgresError(
      "DATA_DIR_NOT_WRITABLE",
      `cannot copy the template cluster ${template.dir} (${describeCause(error)})`,
      {
        action: "copy a cached Postgres cluster",
        path: dataDir,
        hint: "Choose a data directory on a writable filesystem, or remove the template to rebuild it.",
        cause: error,
      },
    );
  }
  return server;
}
