import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import type { CgroupDriverDeps } from "./cgroup-driver.ts";
import { NodeCgroupFs } from "./cgroup-fs.ts";

/**
 * A scratch directory that behaves like cgroupfs, for unit tests of the drivers (and of code
 * that uses them) without root: mkdir fills in the interface files a kernel would show, rmdir
 * refuses busy groups, and writes to cgroup.procs, cgroup.kill, cgroup.subtree_control,
 * memory limits, devices and freezer files follow the kernel's rules closely enough to catch
 * ordering mistakes. Every write is recorded; failures can be injected per path.
 */

/** A fresh scratch directory, on tmpfs when there is one (each group is dozens of files). */
export function makeScratchDir(prefix: string): string {
  const base = nodeFs.existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return nodeFs.mkdtempSync(join(base, prefix));
}

const V1_UNLIMITED = "9223372036854771712";

type Op = "write" | "mkdir" | "rmdir" | "read";

function errnoError(code: string, op: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${op} '${path}'`), { code });
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

export interface ScratchV1Options {
  /** Mounts, each a list of co-mounted controllers; default Debian's hybrid layout. */
  mounts?: string[][];
  /** Add `cpu` and `cpuacct` symlinks for co-mounted `cpu,cpuacct` like systemd does. */
  symlinks?: boolean;
  /** memory.memsw.* files exist (swap accounting on). Default true. */
  swapAccounting?: boolean;
  /** Also lay out a controller-less unified/ hierarchy (hybrid). Default true. */
  unified?: boolean;
}

export interface ScratchV2Options {
  /** Controllers in the root's cgroup.controllers. */
  controllers?: string[];
  /** Controllers already enabled in the root's cgroup.subtree_control. */
  rootSubtreeControl?: string[];
  /** memory.swap.max exists. Default true. */
  swapAccounting?: boolean;
  /** cgroup.kill exists (Linux ≥ 5.14). Default true. */
  cgroupKill?: boolean;
  /** memory.peak exists (Linux ≥ 5.19). Default true. */
  memoryPeak?: boolean;
}

const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    "memory.limit_in_bytes": V1_UNLIMITED,
    "memory.soft_limit_in_bytes": V1_UNLIMITED,
    "memory.usage_in_bytes": "0",
    "memory.max_usage_in_bytes": "0",
    "memory.failcnt": "0",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0",
    "memory.stat": "cache 0\nrss 0\ninactive_file 0\ntotal_inactive_file 0",
    "memory.use_hierarchy": "1",
  },
  cpu: {
    "cpu.shares": "1024",
    "cpu.cfs_period_us": "100000",
    "cpu.cfs_quota_us": "-1",
    "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0",
  },
  cpuacct: {
    "cpuacct.usage": "0",
    "cpuacct.usage_user": "0",
    "cpuacct.usage_sys": "0",
    "cpuacct.stat": "user 0\nsystem 0",
  },
  pids: { "pids.max": "max", "pids.current": "0", "pids.events": "max 0" },
  devices: { "devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm" },
  freezer: { "freezer.state": "THAWED", "freezer.self_freezing": "0" },
  cpuset: { "cpuset.cpus": "", "cpuset.mems": "" },
  blkio: { "blkio.weight": "500" },
};

const DEFAULT_V1_MOUNTS = [
  ["memory"],
  ["cpu"],
  ["cpuacct"],
  ["cpuset"],
  ["pids"],
  ["blkio"],
  ["devices"],
  ["freezer"],
];

export class ScratchCgroupFs extends NodeCgroupFs {
  /** Every write through the interface, in order (including failed ones). */
  readonly writes: { path: string; value: string }[] = [];
  /** Every signal sent through deps().kill. */
  readonly signals: { pid: number; signal: string }[] = [];
  /** Pids that ignore SIGKILL (stuck in D state), for timeout tests. */
  readonly unkillable = new Set<number>();
  readonly #failures = new Map<string, { errno: string; times: number }>();
  /** Hierarchy roots → controllers (v1), or the single root (v2). */
  readonly #v1 = new Map<string, string[]>();
  #v2Root: string | undefined;
  #v2Options: ScratchV2Options = {};
  #v1SwapAccounting = true;

  private constructor(readonly root: string) {
    super();
  }

  /** Lays out v1 hierarchies (and a controller-less unified/) under `root`, like a hybrid host. */
  static v1(dir: string, options: ScratchV1Options = {}): ScratchCgroupFs {
    nodeFs.mkdirSync(dir, { recursive: true });
    const root = nodeFs.realpathSync(dir);
    const fs = new ScratchCgroupFs(root);
    fs.#v1SwapAccounting = options.swapAccounting ?? true;
    for (const controllers of options.mounts ?? DEFAULT_V1_MOUNTS) {
      const dir = join(root, controllers.join(","));
      nodeFs.mkdirSync(dir);
      fs.#v1.set(dir, controllers);
      fs.#populateV1(dir, controllers, true);
      if (options.symlinks && controllers.length > 1) {
        for (const c of controllers) nodeFs.symlinkSync(controllers.join(","), join(root, c));
      }
    }
    if (options.unified ?? true) {
      const unified = join(root, "unified");
      nodeFs.mkdirSync(unified);
      fs.#put(unified, "cgroup.controllers", "");
      fs.#put(unified, "cgroup.subtree_control", "");
      fs.#put(unified, "cgroup.procs", "");
    }
    return fs;
  }

  /** Lays out a pure cgroup2fs root at `root`. */
  static v2(dir: string, options: ScratchV2Options = {}): ScratchCgroupFs {
    nodeFs.mkdirSync(dir, { recursive: true });
    const root = nodeFs.realpathSync(dir);
    const fs = new ScratchCgroupFs(root);
    fs.#v2Root = root;
    fs.#v2Options = options;
    const controllers = options.controllers ?? ["cpuset", "cpu", "io", "memory", "pids"];
    fs.#put(root, "cgroup.controllers", controllers.join(" "));
    fs.#put(root, "cgroup.subtree_control", (options.rootSubtreeControl ?? []).join(" "));
    fs.#put(root, "cgroup.procs", "1");
    fs.#put(root, "cgroup.max.depth", "max");
    fs.#put(root, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0");
    fs.#put(root, "memory.stat", "anon 0\nfile 0");
    return fs;
  }

  /** Injects a failure: the next `times` calls of `op` on `path` throw `errno`. */
  fail(op: Op, path: string, errno: string, times = Number.POSITIVE_INFINITY): void {
    this.#failures.set(`${op} ${path}`, { errno, times });
  }

  /** Sets a file's content directly, as the kernel would (usage counters, events). */
  set(path: string, content: string): void {
    nodeFs.writeFileSync(path, `${content}\n`);
  }

  /** Driver dependencies wired to this scratch tree: kills remove pids, sleeps are instant. */
  deps(hostCpus = 4): CgroupDriverDeps {
    return {
      fs: this,
      hostCpus,
      sleep: () => new Promise((resolve) => setImmediate(resolve)),
      kill: (pid, signal) => {
        this.signals.push({ pid, signal });
        if (!this.#allProcsFiles().some((f) => this.#pidsIn(f).includes(pid))) {
          throw errnoError("ESRCH", "kill", String(pid));
        }
        if (signal === "SIGKILL" && !this.unkillable.has(pid)) this.#removePid(pid);
      },
    };
  }

  /** Writes (path, value) pairs recorded under `dir`, relative to it. */
  writesUnder(dir: string): string[] {
    return this.writes
      .filter((w) => w.path.startsWith(`${dir}/`))
      .map((w) => `${relative(dir, w.path)}=${w.value}`);
  }

  #checkFailure(op: Op, path: string): void {
    const failure = this.#failures.get(`${op} ${path}`);
    if (!failure || failure.times <= 0) return;
    failure.times -= 1;
    throw errnoError(failure.errno, op, path);
  }

  #put(dir: string, file: string, content: string): void {
    nodeFs.writeFileSync(join(dir, file), content === "" ? "" : `${content}\n`);
  }

  #populateV1(dir: string, controllers: string[], isRoot: boolean): void {
    this.#put(dir, "cgroup.procs", "");
    this.#put(dir, "tasks", "");
    this.#put(dir, "notify_on_release", "0");
    this.#put(dir, "cgroup.clone_children", "0");
    for (const c of controllers) {
      for (const [file, content] of Object.entries(V1_FILES[c] ?? {})) {
        // A hierarchy's root has no pids.* or freezer.* files.
        if (isRoot && (c === "pids" || c === "freezer")) continue;
        this.#put(dir, file, content);
      }
      if (c === "memory" && this.#v1SwapAccounting) {
        this.#put(dir, "memory.memsw.limit_in_bytes", V1_UNLIMITED);
        this.#put(dir, "memory.memsw.usage_in_bytes", "0");
        this.#put(dir, "memory.memsw.max_usage_in_bytes", "0");
      }
    }
  }

  #populateV2(dir: string, controllers: string[]): void {
    const o = this.#v2Options;
    this.#put(dir, "cgroup.controllers", controllers.join(" "));
    this.#put(dir, "cgroup.subtree_control", "");
    this.#put(dir, "cgroup.procs", "");
    this.#put(dir, "cgroup.type", "domain");
    this.#put(dir, "cgroup.events", "populated 0\nfrozen 0");
    this.#put(dir, "cgroup.freeze", "0");
    if (o.cgroupKill ?? true) this.#put(dir, "cgroup.kill", "");
    this.#put(dir, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0");
    this.#addV2ControllerFiles(dir, controllers);
  }

  #addV2ControllerFiles(dir: string, controllers: string[]): void {
    const o = this.#v2Options;
    const exists = (file: string) => nodeFs.existsSync(join(dir, file));
    const put = (file: string, content: string) => {
      if (!exists(file)) this.#put(dir, file, content);
    };
    if (controllers.includes("memory")) {
      put("memory.max", "max");
      put("memory.high", "max");
      put("memory.low", "0");
      put("memory.min", "0");
      put("memory.current", "0");
      if (o.memoryPeak ?? true) put("memory.peak", "0");
      put("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0");
      put("memory.stat", "anon 0\nfile 0\ninactive_file 0");
      if (o.swapAccounting ?? true) {
        put("memory.swap.max", "max");
        put("memory.swap.current", "0");
      }
    }
    if (controllers.includes("cpu")) {
      put("cpu.max", "max 100000");
      put("cpu.weight", "100");
      this.#put(
        dir,
        "cpu.stat",
        "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0",
      );
    }
    if (controllers.includes("pids")) {
      put("pids.max", "max");
      put("pids.current", "0");
      put("pids.events", "max 0");
    }
  }

  #v1HierarchyOf(path: string): string | undefined {
    for (const root of this.#v1.keys()) {
      if (path === root || path.startsWith(`${root}/`)) return root;
    }
    return undefined;
  }

  #isDir(path: string): boolean {
    return nodeFs.statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  }

  #groupsUnder(dir: string): string[] {
    const out = [dir];
    for (const e of nodeFs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) out.push(...this.#groupsUnder(join(dir, e.name)));
    }
    return out;
  }

  #allProcsFiles(): string[] {
    const roots = this.#v2Root ? [this.#v2Root] : [...this.#v1.keys()];
    return roots
      .flatMap((r) => this.#groupsUnder(r))
      .map((g) => join(g, "cgroup.procs"))
      .filter((f) => nodeFs.existsSync(f));
  }

  #pidsIn(procsFile: string): number[] {
    return words(nodeFs.readFileSync(procsFile, "utf8")).map(Number);
  }

  #setPids(procsFile: string, pids: number[]): void {
    nodeFs.writeFileSync(procsFile, pids.map((p) => `${p}\n`).join(""));
    const dir = dirname(procsFile);
    const events = join(dir, "cgroup.events");
    if (this.#v2Root && nodeFs.existsSync(events)) {
      const text = nodeFs.readFileSync(events, "utf8");
      nodeFs.writeFileSync(
        events,
        text.replace(/populated \d/, `populated ${pids.length ? 1 : 0}`),
      );
    }
  }

  #removePid(pid: number, within?: string): void {
    for (const f of this.#allProcsFiles()) {
      if (within && !f.startsWith(`${within}/`)) continue;
      const pids = this.#pidsIn(f);
      if (pids.includes(pid))
        this.#setPids(
          f,
          pids.filter((p) => p !== pid),
        );
    }
  }

  override readFile(path: string): string {
    this.#checkFailure("read", path);
    return super.readFile(path);
  }

  override mkdir(path: string): void {
    this.#checkFailure("mkdir", path);
    super.mkdir(path);
    const hierarchy = this.#v1HierarchyOf(path);
    if (hierarchy !== undefined) {
      this.#populateV1(path, this.#v1.get(hierarchy)!, false);
    } else if (this.#v2Root && path.startsWith(`${this.#v2Root}/`)) {
      const parentSubtree = words(
        nodeFs.readFileSync(join(dirname(path), "cgroup.subtree_control"), "utf8"),
      );
      this.#populateV2(path, parentSubtree);
    }
  }

  override rmdir(path: string): void {
    this.#checkFailure("rmdir", path);
    if (!nodeFs.existsSync(path)) throw errnoError("ENOENT", "rmdir", path);
    const entries = nodeFs.readdirSync(path, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory())) throw errnoError("EBUSY", "rmdir", path);
    const procs = join(path, "cgroup.procs");
    if (nodeFs.existsSync(procs) && this.#pidsIn(procs).length > 0) {
      throw errnoError("EBUSY", "rmdir", path);
    }
    for (const e of entries) nodeFs.unlinkSync(join(path, e.name));
    super.rmdir(path);
  }

  override writeFile(path: string, data: string): void {
    this.writes.push({ path, value: data });
    this.#checkFailure("write", path);
    if (!nodeFs.existsSync(path) || this.#isDir(path)) throw errnoError("ENOENT", "open", path);
    const dir = dirname(path);
    const file = basename(path);
    const value = data.trim();
    switch (file) {
      case "cgroup.procs":
      case "tasks":
        this.#writeProcs(path, value);
        return;
      case "cgroup.kill":
        if (value !== "1") throw errnoError("ERANGE", "write", path);
        for (const group of this.#groupsUnder(dir)) {
          for (const pid of this.#pidsIn(join(group, "cgroup.procs"))) {
            if (!this.unkillable.has(pid)) this.#removePid(pid);
          }
        }
        return;
      case "cgroup.subtree_control":
        this.#writeSubtreeControl(dir, value);
        return;
      case "cgroup.freeze": {
        const events = join(dir, "cgroup.events");
        const text = nodeFs.readFileSync(events, "utf8");
        nodeFs.writeFileSync(events, text.replace(/frozen \d/, `frozen ${value === "1" ? 1 : 0}`));
        super.writeFile(path, `${value}\n`);
        return;
      }
      case "freezer.state":
        if (value !== "FROZEN" && value !== "THAWED") throw errnoError("EINVAL", "write", path);
        super.writeFile(path, `${value}\n`);
        return;
      case "devices.allow":
      case "devices.deny":
        nodeFs.appendFileSync(path, `${value}\n`);
        return;
      case "memory.limit_in_bytes":
      case "memory.memsw.limit_in_bytes":
        this.#writeV1MemoryLimit(dir, file, value);
        return;
      default:
        super.writeFile(path, `${value}\n`);
        return;
    }
  }

  #writeProcs(path: string, value: string): void {
    const pid = Number(value);
    if (!Number.isInteger(pid) || pid <= 0) throw errnoError("EINVAL", "write", path);
    const hierarchy = this.#v1HierarchyOf(path) ?? this.#v2Root!;
    this.#removePid(pid, hierarchy);
    this.#setPids(path, [...this.#pidsIn(path), pid]);
  }

  #writeSubtreeControl(dir: string, value: string): void {
    const available = words(nodeFs.readFileSync(join(dir, "cgroup.controllers"), "utf8"));
    const enabled = new Set(
      words(nodeFs.readFileSync(join(dir, "cgroup.subtree_control"), "utf8")),
    );
    for (const token of words(value)) {
      const name = token.slice(1);
      if (!available.includes(name)) {
        throw errnoError("ENOENT", "write", join(dir, "cgroup.subtree_control"));
      }
      if (token.startsWith("+")) enabled.add(name);
      else if (token.startsWith("-")) enabled.delete(name);
      else throw errnoError("EINVAL", "write", join(dir, "cgroup.subtree_control"));
    }
    this.#put(dir, "cgroup.subtree_control", [...enabled].join(" "));
    for (const e of nodeFs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      this.#put(join(dir, e.name), "cgroup.controllers", [...enabled].join(" "));
      this.#addV2ControllerFiles(join(dir, e.name), [...enabled]);
    }
  }

  #writeV1MemoryLimit(dir: string, file: string, value: string): void {
    const path = join(dir, file);
    if (!/^-?\d+$/.test(value)) throw errnoError("EINVAL", "write", path);
    const stored = value === "-1" ? V1_UNLIMITED : value;
    const read = (f: string) => BigInt(nodeFs.readFileSync(join(dir, f), "utf8").trim());
    if (nodeFs.existsSync(join(dir, "memory.memsw.limit_in_bytes"))) {
      // The kernel keeps limit <= memsw.limit at every step.
      const limit =
        file === "memory.limit_in_bytes" ? BigInt(stored) : read("memory.limit_in_bytes");
      const memsw =
        file === "memory.memsw.limit_in_bytes"
          ? BigInt(stored)
          : read("memory.memsw.limit_in_bytes");
      if (limit > memsw) throw errnoError("EINVAL", "write", path);
    }
    nodeFs.writeFileSync(path, `${stored}\n`);
  }
}
