import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { type DaemonSettings, startDaemon, stopDaemon } from "@berth/runtime/daemon";

const run = promisify(execFile);

/**
 * Shared by the container benchmarks: a scratch base under /tmp named berth-test-bench-* (so the
 * leak check sees anything left), a test cgroup parent, runc bundles, and memory readings.
 */
export interface BenchBase {
  dir: string;
  cgroupParent: string;
  daemon: DaemonSettings;
  /** The environment that points `./berth` at this base. */
  env: NodeJS.ProcessEnv;
  runcRoot: string;
}

export function makeBase(label: string): BenchBase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-test-bench-${label}-`));
  fs.chmodSync(dir, 0o755);
  const cgroupParent = `berth-test-bench-${process.pid}`;
  return {
    dir,
    cgroupParent,
    daemon: {
      root: path.join(dir, "data", "runtime"),
      runRoot: path.join(dir, "run", "runtime"),
      logDir: path.join(dir, "log"),
      cgroupParent,
    },
    env: {
      ...process.env,
      BERTH_DATA_DIR: path.join(dir, "data"),
      BERTH_BASE_IMAGES: "",
      BERTH_RUN_DIR: path.join(dir, "run"),
      BERTH_LOG_DIR: path.join(dir, "log"),
      BERTH_CGROUP_PARENT: cgroupParent,
    },
    runcRoot: path.join(dir, "runc"),
  };
}

export async function startBenchDaemon(base: BenchBase): Promise<number> {
  return (await startDaemon(base.daemon)).pid;
}

/** Stops the daemon, removes the base and the test cgroup parent (with stale zygote groups). */
export async function removeBase(base: BenchBase): Promise<void> {
  await stopDaemon(base.daemon).catch(() => {});
  for (const ctrl of fs.readdirSync("/sys/fs/cgroup")) {
    const dir = `/sys/fs/cgroup/${ctrl}/${base.cgroupParent}`;
    if (!fs.existsSync(dir)) continue;
    for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
      if (child.isDirectory())
        fs.rmSync(path.join(dir, child.name), { recursive: false, force: true });
    }
    try {
      fs.rmdirSync(dir);
    } catch {
      // still in use: the leak check will name it
    }
  }
  fs.rmSync(base.dir, { recursive: true, force: true });
}

/**
 * An OCI bundle for runc over the same rootfs: `runc spec`'s defaults (Docker-like namespaces,
 * read-only root), then root path, no terminal, and the command.
 */
export async function runcBundle(base: BenchBase, rootfs: string, args: string[]): Promise<string> {
  const bundle = fs.mkdtempSync(path.join(base.dir, "bundle-"));
  await run("runc", ["spec", "--bundle", bundle]);
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, "config.json"), "utf8"));
  spec.root = { path: rootfs, readonly: true };
  spec.process.terminal = false;
  spec.process.args = args;
  fs.writeFileSync(path.join(bundle, "config.json"), JSON.stringify(spec));
  return bundle;
}

/** Runs a command to its end with stdio on /dev/null (a detached runc child would hold pipes). */
export function runQuiet(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "ignore", ...(env ? { env } : {}) });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? -1));
  });
}

/** `runc run -d` of a bundle under its own id. */
export function runcRunDetached(base: BenchBase, bundle: string, id: string): Promise<number> {
  return runQuiet("runc", ["--root", base.runcRoot, "run", "-d", "--bundle", bundle, id]);
}

/** Kills and deletes runc containers (ignoring ones that are already gone). */
export async function runcCleanup(base: BenchBase, ids: string[]): Promise<void> {
  for (const id of ids) {
    await runQuiet("runc", ["--root", base.runcRoot, "delete", "-f", id]);
  }
}

/** Proportional set size of a process in MiB (shared pages split among their users). */
export function pssMiB(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = /^Pss:\s+(\d+) kB/m.exec(text);
  return kb ? Number(kb[1]) / 1024 : 0;
}

/** A process's direct children. */
export function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
