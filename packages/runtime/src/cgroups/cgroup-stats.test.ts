import { describe, expect, it } from "vitest";
import {
  parseFlatKeyed,
  parseLimit,
  parseOomKillCount,
  v1StatsFromFiles,
  v2StatsFromFiles,
} from "./cgroup-stats.ts";

describe("parsers", () => {
  it("reads flat keyed files and ignores malformed lines", () => {
    const map = parseFlatKeyed("nr_periods 10\nnr_throttled 3\n\ngarbage\nthrottled_time 42\n");
    expect([...map]).toEqual([
      ["nr_periods", 10],
      ["nr_throttled", 3],
      ["throttled_time", 42],
    ]);
  });

  it("maps every spelling of unlimited to null", () => {
    expect(parseLimit("max\n")).toBeNull();
    expect(parseLimit("-1\n")).toBeNull();
    expect(parseLimit("9223372036854771712\n")).toBeNull();
    expect(parseLimit("67108864\n")).toBe(67_108_864);
    expect(() => parseLimit("abc")).toThrow(/not a number/);
  });

  it("counts OOM kills from v1 memory.oom_control and v2 memory.events", () => {
    expect(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")).toBe(2);
    expect(parseOomKillCount("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n")).toBe(
      1,
    );
    // Kernels before 4.13 have no oom_kill line.
    expect(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\n")).toBe(0);
  });
});

describe("stats assembly", () => {
  it("v1: memory, cpuacct, cpu.stat and pids files", () => {
    const files: Record<string, string> = {
      "memory/memory.usage_in_bytes": "1048576\n",
      "memory/memory.limit_in_bytes": "67108864\n",
      "memory/memory.max_usage_in_bytes": "2097152\n",
      "memory/memory.stat": "cache 4096\ntotal_inactive_file 8192\n",
      "cpuacct/cpuacct.usage": "123456789\n",
      "cpuacct/cpuacct.usage_user": "100000000\n",
      "cpuacct/cpuacct.usage_sys": "23456789\n",
      "cpu/cpu.stat": "nr_periods 50\nnr_throttled 20\nthrottled_time 999000\n",
      "pids/pids.current": "3\n",
      "pids/pids.max": "max\n",
    };
    const stats = v1StatsFromFiles((c, f) => files[`${c}/${f}`]);
    expect(stats).toEqual({
      memory: {
        usageBytes: 1_048_576,
        limitBytes: 67_108_864,
        maxUsageBytes: 2_097_152,
        inactiveFileBytes: 8192,
      },
      cpu: {
        usageNs: 123_456_789,
        userNs: 100_000_000,
        systemNs: 23_456_789,
        periods: 50,
        throttledPeriods: 20,
        throttledNs: 999_000,
      },
      pids: { current: 3, limit: null },
    });
  });

  it("v1: missing controllers give zeros and nulls", () => {
    const stats = v1StatsFromFiles(() => undefined);
    expect(stats.memory).toEqual({
      usageBytes: 0,
      limitBytes: null,
      maxUsageBytes: null,
      inactiveFileBytes: 0,
    });
    expect(stats.cpu.userNs).toBeNull();
    expect(stats.pids).toEqual({ current: 0, limit: null });
  });

  it("v2: converts cpu.stat microseconds to nanoseconds", () => {
    const files: Record<string, string> = {
      "memory.current": "4096000\n",
      "memory.max": "67108864\n",
      "memory.peak": "8192000\n",
      "memory.stat": "anon 100\ninactive_file 2048\n",
      "cpu.stat":
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 9\nnr_throttled 4\nthrottled_usec 250\n",
      "pids.current": "5\n",
      "pids.max": "20\n",
    };
    const stats = v2StatsFromFiles((_c, f) => files[f]);
    expect(stats).toEqual({
      memory: {
        usageBytes: 4_096_000,
        limitBytes: 67_108_864,
        maxUsageBytes: 8_192_000,
        inactiveFileBytes: 2048,
      },
      cpu: {
        usageNs: 1_500_000,
        userNs: 1_000_000,
        systemNs: 500_000,
        periods: 9,
        throttledPeriods: 4,
        throttledNs: 250_000,
      },
      pids: { current: 5, limit: 20 },
    });
  });

  it("v2: no memory.peak on older kernels, no cpu controller", () => {
    const stats = v2StatsFromFiles((_c, f) =>
      f === "cpu.stat" ? "usage_usec 10\nuser_usec 6\nsystem_usec 4\n" : undefined,
    );
    expect(stats.memory.maxUsageBytes).toBeNull();
    expect(stats.cpu).toEqual({
      usageNs: 10_000,
      userNs: 6_000,
      systemNs: 4_000,
      periods: 0,
      throttledPeriods: 0,
      throttledNs: 0,
    });
  });
});
