import fs from "node:fs";
import path from "node:path";
import { RuntimeError, SyscallError } from "../errors.ts";
import { linuxNetnsSyscalls, type NetnsSyscalls } from "../sys/netns.ts";
import { assertContainerId } from "./container-id.ts";

/** Namespaces by container ID; NetnsFiles is the real one, unit tests use an in-memory fake. */
export interface NetnsRegistry {
  /** Where the namespace of `containerId` is (or would be) pinned. */
  pathOf(containerId: string): string;
  /** Creates and pins a namespace; returns the existing one if already pinned. */
  create(containerId: string): Promise<string>;
  /** Unpins and deletes it; does nothing when it is already gone. */
  remove(containerId: string): void;
  /** Whether `containerId` has a pinned namespace. */
  exists(containerId: string): boolean;
}

/**
 * Persistent network namespaces as files, `<runRoot>/netns/<containerId>`, like `ip netns add`
 * but under Berth's own run root: the bind mount keeps the namespace alive without a process, so
 * CNI plugins (CNI_NETNS) and the container's init can both join it by path.
 */
export class NetnsFiles implements NetnsRegistry {
  constructor(
    private readonly runRoot: string,
    private readonly sys: NetnsSyscalls = linuxNetnsSyscalls,
  ) {}

  /** Where the namespace of `containerId` is pinned. */
  pathOf(containerId: string): string {
    assertContainerId(containerId);
    return path.join(this.runRoot, "netns", containerId);
  }

  /** Creates and pins a new namespace; returns the existing one if already pinned. */
  async create(containerId: string): Promise<string> {
    const file = this.pathOf(containerId);
    if (isPinnedNetns(file)) return file;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    // An empty file left by a crash between create and mount is reused (flag "w", not "wx").
    fs.closeSync(fs.openSync(file, "w", 0o444));
    try {
      await this.sys.pinNewNetns(file);
    } catch (e) {
      fs.rmSync(file, { force: true });
      throw asNetworkError(`create network namespace ${file}`, e);
    }
    return file;
  }

  /** Unpins and deletes the file; does nothing when it is already gone. */
  remove(containerId: string): void {
    const file = this.pathOf(containerId);
    if (isPinnedNetns(file)) {
      try {
        this.sys.unpinNetns(file);
      } catch (e) {
        // EINVAL: not a mount point any more (raced with another remove) — nothing to undo.
        if (!(e instanceof SyscallError && e.errnoName === "EINVAL")) {
          throw asNetworkError(`remove network namespace ${file}`, e);
        }
      }
    }
    fs.rmSync(file, { force: true });
  }

  /** Whether `containerId` has a pinned namespace. */
  exists(containerId: string): boolean {
    return isPinnedNetns(this.pathOf(containerId));
  }
}

/**
 * True when `file` is a network namespace (nsfs) rather than a plain file: a pinned namespace
 * stats with the device of nsfs, the same as the calling thread's own /proc/self/ns/net.
 */
export function isPinnedNetns(file: string): boolean {
  try {
    return fs.statSync(file).dev === fs.statSync("/proc/self/ns/net").dev;
  } catch {
    return false;
  }
}

function asNetworkError(what: string, e: unknown): RuntimeError {
  const detail = e instanceof Error ? e.message : String(e);
  return new RuntimeError("NETWORK_FAILED", `${what} failed: ${detail}`, {}, { cause: e });
}
