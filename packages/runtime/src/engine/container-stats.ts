import fs from "node:fs";
import os from "node:os";
import type { CgroupDriver, CgroupStats } from "../cgroups/cgroup-driver.ts";

/** One reading of a running container, as `docker stats` shows it. */
export interface ContainerStats {
  id: string;
  name: string;
  /** When the second sample was read (ISO 8601). */
  read: string;
  /** CPU used between two samples, in percent of one CPU (200 = two CPUs busy). */
  cpuPercent: number;
  /** CPU time used since the container started, nanoseconds. */
  cpuNs: number;
  /** Memory in use without the reclaimable page cache (usage - inactive_file), as Docker shows. */
  memoryBytes: number;
  /** The container's memory limit, or the host's memory when it has none. */
  memoryLimitBytes: number;
  memoryPercent: number;
  pids: number;
  /** null: no pids limit. */
  pidsLimit: number | null;
  /** Bytes through the container's interfaces but lo; null with --network host. */
  netRxBytes: number | null;
  netTxBytes: number | null;
}

interface CpuSample {
  cpuNs: number;
  at: bigint;
}

/** Sums /proc/<pid>/net/dev (the network namespace of that process) over all interfaces but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (line.slice(0, colon).trim() === "lo") continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

function netOf(initPid: number): { rx: number; tx: number } | null {
  try {
    // The host's own namespace (--network host): its traffic is not the container's.
    const ns = fs.readlinkSync(`/proc/${initPid}/ns/net`);
    if (ns === fs.readlinkSync("/proc/self/ns/net")) return null;
    return parseNetDev(fs.readFileSync(`/proc/${initPid}/net/dev`, "utf8"));
  } catch {
    return null;
  }
}

/**
 * Computes stats from the container's cgroup. cpuPercent needs two CPU samples: the previous call's
 * when it is recent (a `stats` stream polling every second gets the average over that second),
 * otherwise a second one taken `intervalMs` after the first.
 */
export class StatsSampler {
  private readonly last = new Map<string, CpuSample>();

  constructor(
    private readonly cgroups: CgroupDriver,
    private readonly intervalMs = 100,
    /** A previous sample older than this is not used. */
    private readonly maxAgeMs = 5000,
  ) {}

  async sample(id: string, name: string, initPid: number): Promise<ContainerStats> {
    let prev = this.last.get(id);
    const ageMs = prev ? Number(process.hrtime.bigint() - prev.at) / 1e6 : Infinity;
    if (!prev || ageMs > this.maxAgeMs || ageMs < this.intervalMs / 2) {
      prev = { cpuNs: (await this.cgroups.stats(id)).cpu.usageNs, at: process.hrtime.bigint() };
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
    const stats: CgroupStats = await this.cgroups.stats(id);
    const now: CpuSample = { cpuNs: stats.cpu.usageNs, at: process.hrtime.bigint() };
    this.last.set(id, now);
    const wallNs = Number(now.at - prev.at);
    const cpuPercent = wallNs > 0 ? (Math.max(0, now.cpuNs - prev.cpuNs) / wallNs) * 100 : 0;
    const memoryBytes = Math.max(0, stats.memory.usageBytes - stats.memory.inactiveFileBytes);
    const memoryLimitBytes = stats.memory.limitBytes ?? os.totalmem();
    const net = netOf(initPid);
    return {
      id,
      name,
      read: new Date().toISOString(),
      cpuPercent: Math.round(cpuPercent * 100) / 100,
      cpuNs: stats.cpu.usageNs,
      memoryBytes,
      memoryLimitBytes,
      memoryPercent: Math.round((memoryBytes / memoryLimitBytes) * 10000) / 100,
      pids: stats.pids.current,
      pidsLimit: stats.pids.limit,
      netRxBytes: net?.rx ?? null,
      netTxBytes: net?.tx ?? null,
    };
  }

  /** Forgets a container's last sample (it exited or was removed). */
  forget(id: string): void {
    this.last.delete(id);
  }
}
