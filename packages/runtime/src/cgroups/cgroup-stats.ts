import type { CgroupStats } from "./cgroup-driver.ts";

/** v1 reports "unlimited" as a huge page-aligned number (LONG_MAX rounded down to a page). */
const V1_UNLIMITED_FLOOR = 2 ** 62;

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value, ...rest] = line.trim().split(/\s+/);
    if (!key || value === undefined || rest.length > 0) continue;
    const n = Number(value);
    if (Number.isFinite(n)) values.set(key, n);
  }
  return values;
}

/** Parses a single number; "max", -1 and v1's huge "unlimited" value become null. */
export function parseLimit(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "max" || trimmed === "-1") return null;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(trimmed)}`);
  return n >= V1_UNLIMITED_FLOOR ? null : n;
}

/** Parses a single counter such as memory.usage_in_bytes or pids.current. */
export function parseCounter(text: string): number {
  const n = Number(text.trim());
  if (!Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(text.trim())}`);
  return n;
}

/** The `oom_kill` count from v1 memory.oom_control or v2 memory.events (0 if the kernel lacks it). */
export function parseOomKillCount(text: string): number {
  return parseFlatKeyed(text).get("oom_kill") ?? 0;
}

/** Reads one file of a controller; undefined when the file (or controller) is absent. */
export type StatsReader = (controller: string, file: string) => string | undefined;

function counterOr(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseCounter(text);
}

/** Assembles stats from v1 files (memory, cpu, cpuacct, pids hierarchies). */
export function v1StatsFromFiles(read: StatsReader): CgroupStats {
  const memStat = parseFlatKeyed(read("memory", "memory.stat") ?? "");
  const cpuStat = parseFlatKeyed(read("cpu", "cpu.stat") ?? "");
  const limit = read("memory", "memory.limit_in_bytes");
  const maxUsage = read("memory", "memory.max_usage_in_bytes");
  const user = read("cpuacct", "cpuacct.usage_user");
  const system = read("cpuacct", "cpuacct.usage_sys");
  const pidsMax = read("pids", "pids.max");
  return {
    memory: {
      usageBytes: counterOr(read("memory", "memory.usage_in_bytes"), 0),
      limitBytes: limit === undefined ? null : parseLimit(limit),
      maxUsageBytes: maxUsage === undefined ? null : parseCounter(maxUsage),
      inactiveFileBytes: memStat.get("total_inactive_file") ?? memStat.get("inactive_file") ?? 0,
    },
    cpu: {
      usageNs: counterOr(read("cpuacct", "cpuacct.usage"), 0),
      userNs: user === undefined ? null : parseCounter(user),
      systemNs: system === undefined ? null : parseCounter(system),
      periods: cpuStat.get("nr_periods") ?? 0,
      throttledPeriods: cpuStat.get("nr_throttled") ?? 0,
      throttledNs: cpuStat.get("throttled_time") ?? 0,
    },
    pids: {
      current: counterOr(read("pids", "pids.current"), 0),
      limit: pidsMax === undefined ? null : parseLimit(pidsMax),
    },
  };
}

/** Assembles stats from v2 files of the group's one directory (controller names are ignored). */
export function v2StatsFromFiles(read: StatsReader): CgroupStats {
  const memStat = parseFlatKeyed(read("memory", "memory.stat") ?? "");
  // cpu.stat's usage lines exist even without the cpu controller; throttling needs it.
  const cpuStat = parseFlatKeyed(read("cpu", "cpu.stat") ?? "");
  const limit = read("memory", "memory.max");
  const peak = read("memory", "memory.peak");
  const pidsMax = read("pids", "pids.max");
  const usec = (key: string) => {
    const v = cpuStat.get(key);
    return v === undefined ? null : v * 1000;
  };
  return {
    memory: {
      usageBytes: counterOr(read("memory", "memory.current"), 0),
      limitBytes: limit === undefined ? null : parseLimit(limit),
      maxUsageBytes: peak === undefined ? null : parseCounter(peak),
      inactiveFileBytes: memStat.get("inactive_file") ?? 0,
    },
    cpu: {
      usageNs: usec("usage_usec") ?? 0,
      userNs: usec("user_usec"),
      systemNs: usec("system_usec"),
      periods: cpuStat.get("nr_periods") ?? 0,
      throttledPeriods: cpuStat.get("nr_throttled") ?? 0,
      throttledNs: usec("throttled_usec") ?? 0,
    },
    pids: {
      current: counterOr(read("pids", "pids.current"), 0),
      limit: pidsMax === undefined ? null : parseLimit(pidsMax),
    },
  };
}
