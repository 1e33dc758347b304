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
import { parseFlatKeyed, parseOomKillCount, v2StatsFromFiles } from "./cgroup-stats.ts";
import { childGroups, killUntilEmpty, removeSubtrees, sigkillAll } from "./cgroup-tree.ts";
import { type CgroupResources, parseCgroupResources, v2ResourceWrites } from "./resources.ts";

/** Controllers enabled for container groups when the host offers them (stats need all three). */
export const V2_CONTROLLERS = ["cpu", "memory", "pids"] as const;

export interface CgroupV2DriverOptions {
  /** Root of the unified hierarchy (the directory holding cgroup.controllers). */
  root: string;
  /** Name of the parent group (RuntimeConfig.cgroupParent). */
  parent: string;
  deps: CgroupDriverDeps;
}

const DEFAULT_DESTROY_TIMEOUT_MS = 10_000;
const FREEZE_TIMEOUT_MS = 2_000;
const POLL_MS = 10;

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

/**
 * cgroup v2: one directory per group, controllers enabled top-down through cgroup.subtree_control.
 *
 * Devices: v2 has no devices.allow/deny; runc attaches a BPF_PROG_TYPE_CGROUP_DEVICE program
 * instead. This driver does not (no eBPF here), so on v2 device access rests on the engine: /dev is
 * a tmpfs holding only the allowed nodes, /sys is read-only, and the container must not be able to
 * mknod and open new device nodes (drop CAP_MKNOD, or mount writable filesystems nodev).
 */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = "v2" as const;
  readonly #root: string;
  readonly #parent: string;
  readonly #deps: CgroupDriverDeps;

  constructor(options: CgroupV2DriverOptions) {
    this.#root = options.root;
    this.#parent = options.parent;
    this.#deps = options.deps;
  }

  #parentDir(): string {
    return join(this.#root, this.#parent);
  }

  #groupDir(name: string): string {
    return join(this.#root, this.#parent, name);
  }

  #controllersOf(dir: string): string[] {
    return words(readCgroupFile(this.#deps.fs, join(dir, "cgroup.controllers")));
  }

  /** Enables the controllers for the children of `dir`, writing only the missing ones. */
  #enableForChildren(dir: string, controllers: readonly string[]): void {
    const file = join(dir, "cgroup.subtree_control");
    const enabled = new Set(words(readCgroupFile(this.#deps.fs, file)));
    for (const c of controllers) {
      if (!enabled.has(c)) writeCgroupFile(this.#deps.fs, file, `+${c}`);
    }
  }

  #needed(resources: CgroupResources): string[] {
    return [
      ...new Set(
        v2ResourceWrites(resources, { hasSwapMax: false }).map((w) => w.controller as string),
      ),
    ];
  }

  #requireAvailable(dir: string, available: readonly string[], needed: readonly string[]) {
    for (const c of needed) {
      if (!available.includes(c)) {
        throw new RuntimeError(
          "CGROUP_FAILED",
          `the ${c} controller is not available in ${join(dir, "cgroup.controllers")} (offered: ${available.join(" ") || "none"}); enable it in the parent's cgroup.subtree_control`,
          { controller: c, path: dir },
        );
      }
    }
  }

  #apply(name: string, resources: CgroupResources): void {
    const dir = this.#groupDir(name);
    const fs = this.#deps.fs;
    const hasSwapMax = fs.exists(join(dir, "memory.swap.max"));
    for (const w of v2ResourceWrites(resources, { hasSwapMax })) {
      writeCgroupFile(fs, join(dir, w.file), w.value);
    }
  }

  async create(name: string, resources: CgroupResources = {}): Promise<void> {
    assertCgroupName(name);
    const parsed = parseCgroupResources(resources, this.#deps.hostCpus);
    if (parsed.allowedDevices !== undefined) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        "allowedDevices needs the v1 devices controller; on cgroup v2 /dev holds only allowed nodes",
        {},
      );
    }
    const fs = this.#deps.fs;
    const available = this.#controllersOf(this.#root);
    this.#requireAvailable(this.#root, available, this.#needed(parsed));
    const controllers = V2_CONTROLLERS.filter((c) => available.includes(c));

    const parentDir = this.#parentDir();
    const groupDir = this.#groupDir(name);
    let createdParent = false;
    let createdGroup = false;
    try {
      // Top-down: a controller can only be enabled for children where the parent has it.
      this.#enableForChildren(this.#root, controllers);
      createdParent = mkdirCgroup(fs, parentDir);
      this.#enableForChildren(parentDir, controllers);
      if (!mkdirCgroup(fs, groupDir)) {
        throw new RuntimeError("CONFLICT", `cgroup ${groupDir} already exists`, { path: groupDir });
      }
      createdGroup = true;
      this.#apply(name, parsed);
    } catch (error) {
      const undo = [...(createdGroup ? [groupDir] : []), ...(createdParent ? [parentDir] : [])];
      for (const dir of undo) {
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
    this.#assertExists(from);
    renameCgroup(this.#deps.fs, this.#groupDir(from), this.#groupDir(to));
  }

  async addProcess(name: string, pid: number): Promise<void> {
    assertCgroupName(name);
    writeCgroupFile(this.#deps.fs, join(this.#groupDir(name), "cgroup.procs"), String(pid));
  }

  async update(name: string, resources: CgroupResources): Promise<void> {
    assertCgroupName(name);
    const parsed = parseCgroupResources(resources, this.#deps.hostCpus);
    if (parsed.allowedDevices !== undefined) {
      throw new RuntimeError("INVALID_ARGUMENT", "allowedDevices can only be set at create", {});
    }
    const dir = this.#groupDir(name);
    this.#assertExists(name);
    this.#requireAvailable(dir, this.#controllersOf(dir), this.#needed(parsed));
    this.#apply(name, parsed);
  }

  async stats(name: string): Promise<CgroupStats> {
    assertCgroupName(name);
    this.#assertExists(name);
    const dir = this.#groupDir(name);
    return v2StatsFromFiles((_controller, file) =>
      readOptionalCgroupFile(this.#deps.fs, join(dir, file)),
    );
  }

  async oomKillCount(name: string): Promise<number> {
    assertCgroupName(name);
    // memory.events counts the group and its descendants (unless mounted memory_localevents).
    const text = readOptionalCgroupFile(this.#deps.fs, join(this.#groupDir(name), "memory.events"));
    if (text === undefined) {
      this.#assertExists(name);
      return 0;
    }
    return parseOomKillCount(text);
  }

  async pids(name: string): Promise<number[]> {
    assertCgroupName(name);
    return parsePidList(readCgroupFile(this.#deps.fs, join(this.#groupDir(name), "cgroup.procs")));
  }

  async freeze(name: string): Promise<void> {
    assertCgroupName(name);
    const dir = this.#groupDir(name);
    writeCgroupFile(this.#deps.fs, join(dir, "cgroup.freeze"), "1");
    let waited = 0;
    while (!this.#isFrozen(dir)) {
      if (waited >= FREEZE_TIMEOUT_MS) {
        writeCgroupFile(this.#deps.fs, join(dir, "cgroup.freeze"), "0");
        throw new RuntimeError(
          "CGROUP_FAILED",
          `freeze ${dir} did not complete within ${FREEZE_TIMEOUT_MS} ms`,
          { path: dir },
        );
      }
      await this.#deps.sleep(POLL_MS);
      waited += POLL_MS;
    }
  }

  #isFrozen(dir: string): boolean {
    return (
      parseFlatKeyed(readCgroupFile(this.#deps.fs, join(dir, "cgroup.events"))).get("frozen") === 1
    );
  }

  async thaw(name: string): Promise<void> {
    assertCgroupName(name);
    writeCgroupFile(this.#deps.fs, join(this.#groupDir(name), "cgroup.freeze"), "0");
  }

  async destroy(name: string, options: DestroyOptions = {}): Promise<void> {
    assertCgroupName(name);
    const timeoutMs = options.timeoutMs ?? DEFAULT_DESTROY_TIMEOUT_MS;
    const fs = this.#deps.fs;
    const dir = this.#groupDir(name);
    if (!fs.exists(dir)) return;
    if (fs.exists(join(dir, "cgroup.kill"))) {
      // Linux ≥ 5.14 kills the whole subtree atomically, forks included.
      writeCgroupFile(fs, join(dir, "cgroup.kill"), "1");
    } else if (await this.#tryFreeze(name)) {
      try {
        sigkillAll(this.#deps, [dir]);
      } finally {
        await this.thaw(name);
      }
    }
    await killUntilEmpty(this.#deps, [dir], timeoutMs);
    await removeSubtrees(this.#deps, [dir], timeoutMs);
  }

  async #tryFreeze(name: string): Promise<boolean> {
    if (!this.#deps.fs.exists(join(this.#groupDir(name), "cgroup.freeze"))) return false;
    try {
      await this.freeze(name);
      return true;
    } catch {
      return false;
    }
  }

  async destroyParentIfEmpty(): Promise<boolean> {
    const fs = this.#deps.fs;
    const parentDir = this.#parentDir();
    if (!fs.exists(parentDir)) return true;
    if (childGroups(fs, parentDir).length > 0) return false;
    try {
      rmdirCgroup(fs, parentDir);
      return true;
    } catch (error) {
      if ((error as RuntimeError).context?.errno !== "EBUSY") throw error;
      return false;
    }
  }

  async exists(name: string): Promise<boolean> {
    assertCgroupName(name);
    return this.#deps.fs.exists(this.#groupDir(name));
  }

  async list(): Promise<string[]> {
    return childGroups(this.#deps.fs, this.#parentDir()).sort();
  }

  paths(name: string): CgroupPaths {
    assertCgroupName(name);
    return { unified: this.#groupDir(name) };
  }

  #assertExists(name: string): void {
    if (!this.#deps.fs.exists(this.#groupDir(name))) {
      throw new RuntimeError("NOT_FOUND", `no cgroup ${this.#groupDir(name)}`, { name });
    }
  }
}
