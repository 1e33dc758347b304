import { describe, expect, it } from "vitest";
import type { CgroupDriver, CgroupStats } from "../cgroups/cgroup-driver.ts";
import { parseNetDev, StatsSampler } from "./container-stats.ts";

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    1500      12    0    0    0     0          0         0      900       8    0    0    0     0       0          0
  eth1:      10       1    0    0    0     0          0         0       20       1    0    0    0     0       0          0
`;

function cgroupStats(usageNs: number): CgroupStats {
  return {
    memory: {
      usageBytes: 10_000,
      limitBytes: 100_000,
      maxUsageBytes: null,
      inactiveFileBytes: 2000,
    },
    cpu: {
      usageNs,
      userNs: null,
      systemNs: null,
      periods: 0,
      throttledPeriods: 0,
      throttledNs: 0,
    },
    pids: { current: 3, limit: 64 },
  };
}

/** A driver whose CPU counter advances `perCall` ns each time stats() is read. */
function fakeCgroups(perCall: number): CgroupDriver {
  let usage = 0;
  return {
    stats: async () => {
      usage += perCall;
      return cgroupStats(usage);
    },
  } as unknown as CgroupDriver;
}

describe("parseNetDev", () => {
  it("sums every interface but lo", () => {
    expect(parseNetDev(NET_DEV)).toEqual({ rx: 1510, tx: 920 });
  });
});

describe("StatsSampler", () => {
  it("computes cpuPercent from two samples and Docker's memory figure", async () => {
    // 50 ms of CPU per sample, samples ~100 ms apart: about 50 %.
    const sampler = new StatsSampler(fakeCgroups(50_000_000), 100);
    const s = await sampler.sample("abc", "box", 999_999_999);
    expect(s.cpuPercent).toBeGreaterThan(30);
    expect(s.cpuPercent).toBeLessThanOrEqual(51);
    expect(s.memoryBytes).toBe(8000);
    expect(s.memoryLimitBytes).toBe(100_000);
    expect(s.memoryPercent).toBe(8);
    expect(s).toMatchObject({ pids: 3, pidsLimit: 64, netRxBytes: null, netTxBytes: null });
  });

  it("reuses a recent previous sample instead of sleeping again", async () => {
    const sampler = new StatsSampler(fakeCgroups(1_000_000), 100);
    await sampler.sample("abc", "box", 999_999_999);
    await new Promise((r) => setTimeout(r, 60));
    const t0 = Date.now();
    await sampler.sample("abc", "box", 999_999_999);
    expect(Date.now() - t0).toBeLessThan(50);
  });
});
