import { join } from "node:path";
import { RuntimeError } from "../errors.ts";
import {
  assertCgroupName,
  type CgroupDriver,
  type CgroupDriverDeps,
  type CgroupPaths,
  type CgroupStats,
  type DestroyOptions,
} from "./cgroup-driver.ts";
import {
  mkdirCgroup,
  parsePidList,
  readCgroupFile,
  readOptionalCgroupFile,
  renameCgroup,
  rmdirCgroup,
  writeCgroupFile,
} from "./cgroup-io.ts";
import { parseLimit, parseOomKillCount, v1StatsFromFiles } from "./cgroup-stats.ts";
import { childGroups, killUntilEmpty, removeSubtrees, sigkillAll } from "./cgroup-tree.ts";
import {
  type CgroupResources,
  type CgroupWrite,
  parseCgroupResources,
  v1ResourceWrites,
} from "./resources.ts";

/**
 * The v1 controllers a container's group is created in. cpuset and blkio are left out: the engine
 * sets no limits there, and a new cpuset group would need cpus/mems copied in before it can hold
 * a process.
 */
export const V1_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface CgroupV1DriverOptions {
  /** Name of the parent group in every hierarchy (RuntimeConfig.cgroupParent). */
  parent: string;
  /** Controller → root of its hierarchy; co-mounted controllers share a root (cpu,cpuacct). */
  hierarchies: Partial<Record<V1Controller, string>>;
  deps: CgroupDriverDeps;
}

const DEFAULT_DESTROY_TIMEOUT_MS = 10_000;
const FREEZE_TIMEOUT_MS = 2_000;
const POLL_MS = 10;

/** cgroup v1: one directory per hierarchy, each controller's files in its own hierarchy. */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = "v1" as const;
  readonly #parent: string;
  readonly #hierarchies: Partial<Record<V1Controller, string>>;
  readonly #deps: CgroupDriverDeps;

  constructor(options: CgroupV1DriverOptions) {
    this.#parent = options.parent;
    this.#hierarchies = options.hierarchies;
    this.#deps = options.deps;
  }

  /** Each hierarchy root once (cpu and cpuacct may be the same mount). */
  #roots(): string[] {
    return [...new Set(Object.values(this.#hierarchies))];
  }

  #groupDir(controller: V1Controller, name: string): string | undefined {
    const root = this.#hierarchies[controller];
    return root === undefined ? undefined : join(root, this.#parent, name);
  }

  #groupDirs(name: string): string[] {
    return this.#roots().map((root) => join(root, this.#parent, name));
  }

  #requireController(controller: V1Controller, why: string): string {
    const root = this.#hierarchies[controller];
    if (root === undefined) {
      throw new RuntimeError(
        "CGROUP_FAILED",
        `${why} needs the cgroup v1 ${controller} controller, which is not mounted on this host`,
        { controller },
      );
    }
    return root;
  }

  #checkControllers(writes: readonly CgroupWrite[]): void {
    for (const w of writes) this.#requireController(w.controller, `setting ${w.file}`);
  }

  #apply(name: string, resources: CgroupResources, includeDevices: boolean): void {
    const fs = this.#deps.fs;
    const memDir = this.#groupDir("memory", name);
    let currentMemoryLimit: number | null = null;
    let hasMemsw = false;
    if (memDir !== undefined && resources.memoryBytes !== undefined) {
      currentMemoryLimit = parseLimit(readCgroupFile(fs, join(memDir, "memory.limit_in_bytes")));
      hasMemsw = fs.exists(join(memDir, "memory.memsw.limit_in_bytes"));
    }
    const writes = v1ResourceWrites(resources, { currentMemoryLimit, hasMemsw, includeDevices });
    this.#checkControllers(writes);
    for (const w of writes) {
      writeCgroupFile(fs, join(this.#groupDir(w.controller, name)!, w.file), w.value);
    }
  }

  async create(name: string, resources: CgroupResources = {}): Promise<void> {
    assertCgroupName(name);
    const parsed = parseCgroupResources(resources, this.#deps.hostCpus);
    this.#requireController("devices", "the device allow-list");
    this.#checkControllers(
      v1ResourceWrites(parsed, {
        currentMemoryLimit: null,
        hasMemsw: false,
        includeDevices: false,
      }),
    );
    const fs = this.#deps.fs;
    const createdParents: string[] = [];
    const createdGroups: string[] = [];
    try {
      for (const root of this.#roots()) {
        const parentDir = join(root, this.#parent);
        if (mkdirCgroup(fs, parentDir)) createdParents.push(parentDir);
        const groupDir = join(parentDir, name);
        if (!mkdirCgroup(fs, groupDir)) {
          throw new RuntimeError("CONFLICT", `cgroup ${groupDir} already exists`, {
            path: groupDir,
          });
        }
        createdGroups.push(groupDir);
      }
      this.#apply(name, parsed, true);
    } catch (error) {
      // Leave nothing behind: our new groups hold no processes yet, so rmdir is enough.
      for (const dir of [...createdGroups, ...createdParents]) {
        try {
          rmdirCgroup(fs, dir);
        } catch {
          // A concurrent create may have put a group in the parent; it stays.
        }
      }
      throw error;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    assertCgroupName(from);
    assertCgroupName(to);
    await this.#assertExists(from);
    const fs = this.#deps.fs;
    const done: [string, string][] = [];
    try {
      for (const root of this.#roots()) {
        const src = join(root, this.#parent, from);
        const dst = join(root, this.#parent, to);
        renameCgroup(fs, src, dst);
        done.push([src, dst]);
      }
    } catch (error) {
      for (const [src, dst] of done.reverse()) {
        try {
          fs.rename(dst, src);
        } catch {
          // Best effort: destroy(to) and destroy(from) both still find what is left.
        }
      }
      throw error;
    }
  }

  async addProcess(name: string, pid: number): Promise<void> {
    assertCgroupName(name);
    for (const dir of this.#groupDirs(name)) {
      writeCgroupFile(this.#deps.fs, join(dir, "cgroup.procs"), String(pid));
    }
  }

  async update(name: string, resources: CgroupResources): Promise<void> {
    assertCgroupName(name);
    const parsed = parseCgroupResources(resources, this.#deps.hostCpus);
    if (parsed.allowedDevices !== undefined) {
      throw new RuntimeError("INVALID_ARGUMENT", "allowedDevices can only be set at create", {});
    }
    await this.#assertExists(name);
    this.#apply(name, parsed, false);
  }

  async stats(name: string): Promise<CgroupStats> {
    await this.#assertExists(name);
    const fs = this.#deps.fs;
    return v1StatsFromFiles((controller, file) => {
      const dir = this.#groupDir(controller as V1Controller, name);
      return dir === undefined ? undefined : readOptionalCgroupFile(fs, join(dir, file));
    });
  }

  async oomKillCount(name: string): Promise<number> {
    assertCgroupName(name);
    const dir = this.#groupDir("memory", name);
    if (dir === undefined) return 0;
    return parseOomKillCount(readCgroupFile(this.#deps.fs, join(dir, "memory.oom_control")));
  }

  async pids(name: string): Promise<number[]> {
    assertCgroupName(name);
    const controller = (["pids", "memory", "cpu"] as const).find((c) => this.#hierarchies[c]);
    const dir = controller ? this.#groupDir(controller, name) : this.#groupDirs(name)[0];
    if (dir === undefined) return [];
    return parsePidList(readCgroupFile(this.#deps.fs, join(dir, "cgroup.procs")));
  }

  async freeze(name: string): Promise<void> {
    assertCgroupName(name);
    const root = this.#requireController("freezer", "freeze");
    const state = join(root, this.#parent, name, "freezer.state");
    writeCgroupFile(this.#deps.fs, state, "FROZEN");
    // FREEZING until every task has stopped.
    let waited = 0;
    while (readCgroupFile(this.#deps.fs, state).trim() !== "FROZEN") {
      if (waited >= FREEZE_TIMEOUT_MS) {
        writeCgroupFile(this.#deps.fs, state, "THAWED");
        throw new RuntimeError(
          "CGROUP_FAILED",
          `freeze ${join(root, this.#parent, name)} did not complete within ${FREEZE_TIMEOUT_MS} ms`,
          { path: state },
        );
      }
      await this.#deps.sleep(POLL_MS);
      waited += POLL_MS;
    }
  }

  async thaw(name: string): Promise<void> {
    assertCgroupName(name);
    const root = this.#requireController("freezer", "thaw");
    writeCgroupFile(this.#deps.fs, join(root, this.#parent, name, "freezer.state"), "THAWED");
  }

  async destroy(name: string, options: DestroyOptions = {}): Promise<void> {
    assertCgroupName(name);
    const timeoutMs = options.timeoutMs ?? DEFAULT_DESTROY_TIMEOUT_MS;
    const fs = this.#deps.fs;
    const dirs = this.#groupDirs(name).filter((dir) => fs.exists(dir));
    if (dirs.length === 0) return;
    // Freeze first so that nothing forks between reading the pid lists and the kills (runc does
    // the same); SIGKILL reaches frozen tasks, which die as soon as they are thawed.
    const freezerDir = this.#groupDir("freezer", name);
    if (freezerDir !== undefined && fs.exists(freezerDir) && (await this.#tryFreeze(name))) {
      try {
        sigkillAll(this.#deps, dirs);
      } finally {
        await this.thaw(name);
      }
    }
    await killUntilEmpty(this.#deps, dirs, timeoutMs);
    await removeSubtrees(this.#deps, dirs, timeoutMs);
  }

  async #tryFreeze(name: string): Promise<boolean> {
    try {
      await this.freeze(name);
      return true;
    } catch {
      return false;
    }
  }

  async destroyParentIfEmpty(): Promise<boolean> {
    const fs = this.#deps.fs;
    let allGone = true;
    for (const root of this.#roots()) {
      const parentDir = join(root, this.#parent);
      if (!fs.exists(parentDir)) continue;
      if (childGroups(fs, parentDir).length > 0) {
        allGone = false;
        continue;
      }
      try {
        rmdirCgroup(fs, parentDir);
      } catch (error) {
        // A container group appeared in between, or a stray process sits in the parent.
        if ((error as RuntimeError).context?.errno !== "EBUSY") throw error;
        allGone = false;
      }
    }
    return allGone;
  }

  async exists(name: string): Promise<boolean> {
    assertCgroupName(name);
    return this.#groupDirs(name).some((dir) => this.#deps.fs.exists(dir));
  }

  async list(): Promise<string[]> {
    const names = new Set<string>();
    for (const root of this.#roots()) {
      for (const name of childGroups(this.#deps.fs, join(root, this.#parent))) names.add(name);
    }
    return [...names].sort();
  }

  paths(name: string): CgroupPaths {
    assertCgroupName(name);
    const paths: CgroupPaths = {};
    for (const controller of V1_CONTROLLERS) {
      const dir = this.#groupDir(controller, name);
      if (dir !== undefined) paths[controller] = dir;
    }
    return paths;
  }

  async #assertExists(name: string): Promise<void> {
    if (!(await this.exists(name))) {
      throw new RuntimeError("NOT_FOUND", `no cgroup ${this.#parent}/${name}`, {
        name,
        paths: this.paths(name),
      });
    }
  }
}
