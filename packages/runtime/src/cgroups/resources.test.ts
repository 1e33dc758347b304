import { describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import {
  cpuQuotaUs,
  cpuSharesToWeight,
  DEFAULT_ALLOWED_DEVICES,
  parseCgroupResources,
  v1ResourceWrites,
  v2ResourceWrites,
} from "./resources.ts";

const MiB = 1024 * 1024;

function rejects(input: unknown, hostCpus = 2): RuntimeError {
  try {
    parseCgroupResources(input, hostCpus);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe("INVALID_ARGUMENT");
    return error as RuntimeError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("parseCgroupResources", () => {
  it("accepts Docker-like limits and unlimited values", () => {
    const r = { memoryBytes: 64 * MiB, cpus: 0.5, cpuShares: 512, pidsLimit: 20 };
    expect(parseCgroupResources(r, 2)).toEqual(r);
    expect(parseCgroupResources({ memoryBytes: "max", cpus: "max", pidsLimit: "max" }, 2)).toEqual({
      memoryBytes: "max",
      cpus: "max",
      pidsLimit: "max",
    });
    expect(parseCgroupResources(undefined, 2)).toEqual({});
    expect(parseCgroupResources({ memoryBytes: 6 * MiB, cpus: 2 }, 2)).toEqual({
      memoryBytes: 6 * MiB,
      cpus: 2,
    });
  });

  it("rejects memory under 6 MiB, naming field and value", () => {
    const error = rejects({ memoryBytes: 4 * MiB });
    expect(error.message).toBe(
      "invalid cgroup resources: memoryBytes must be at least 6 MiB (6291456 bytes), got 4194304",
    );
  });

  it("rejects cpus <= 0, under 0.01, and above the host's CPUs", () => {
    expect(rejects({ cpus: 0 }).message).toContain("cpus must be at least 0.01");
    expect(rejects({ cpus: -1 }).message).toContain("cpus must be at least 0.01");
    expect(rejects({ cpus: 0.001 }).message).toContain("got 0.001");
    expect(rejects({ cpus: 3 }, 2).message).toContain("cpus must be at most 2 (the host's CPUs)");
    expect(rejects({ cpus: Number.NaN }).message).toContain("cpus");
  });

  it("rejects pids < 1, fractional values, bad shares, unknown fields and wrong types", () => {
    expect(rejects({ pidsLimit: 0 }).message).toContain("pidsLimit must be at least 1");
    expect(rejects({ pidsLimit: 1.5 }).message).toContain("pidsLimit must be a whole number");
    expect(rejects({ memoryBytes: "lots" }).message).toContain(
      'memoryBytes must be a number or "max"',
    );
    expect(rejects({ cpuShares: 1 }).message).toContain("cpuShares must be between 2 and 262144");
    expect(rejects({ memory: 1 }).message).toContain("memory");
    expect(rejects({ allowedDevices: ["x 1:3 rwm"] }).message).toContain("allowedDevices.0");
  });

  it("rejects a reservation above the hard limit", () => {
    expect(rejects({ memoryBytes: 64 * MiB, memoryReservationBytes: 65 * MiB }).message).toContain(
      "memoryReservationBytes must not exceed memoryBytes",
    );
  });
});

describe("conversions", () => {
  it("turns --cpus into a CFS quota over a 100 ms period", () => {
    expect(cpuQuotaUs(0.5)).toBe(50_000);
    expect(cpuQuotaUs(1.5)).toBe(150_000);
    expect(cpuQuotaUs(0.01)).toBe(1_000);
    expect(cpuQuotaUs("max")).toBe("max");
  });

  it("converts shares to weight with runc's formula", () => {
    expect(cpuSharesToWeight(2)).toBe(1);
    expect(cpuSharesToWeight(1024)).toBe(39);
    expect(cpuSharesToWeight(512)).toBe(20);
    expect(cpuSharesToWeight(262_144)).toBe(10_000);
  });
});

describe("v1ResourceWrites", () => {
  const fmt = (ws: { file: string; value: string }[]) => ws.map((w) => `${w.file}=${w.value}`);

  it("writes devices first: deny all, then Docker's allow-list without block-device mknod", () => {
    const writes = fmt(
      v1ResourceWrites({}, { currentMemoryLimit: null, hasMemsw: true, includeDevices: true }),
    );
    expect(writes[0]).toBe("devices.deny=a");
    expect(writes.slice(1)).toEqual(DEFAULT_ALLOWED_DEVICES.map((d) => `devices.allow=${d}`));
    expect(writes).toContain("devices.allow=c 1:3 rwm");
    expect(writes).toContain("devices.allow=c 136:* rwm");
    expect(writes).not.toContain("devices.allow=b *:* m");
    expect(writes.some((w) => w.includes("10:200"))).toBe(false);
  });

  it("lowers the limit before memsw when shrinking, raises memsw first when growing", () => {
    const shrink = v1ResourceWrites(
      { memoryBytes: 64 * MiB },
      { currentMemoryLimit: null, hasMemsw: true, includeDevices: false },
    );
    expect(fmt(shrink)).toEqual([
      "memory.limit_in_bytes=67108864",
      "memory.memsw.limit_in_bytes=67108864",
    ]);
    const grow = v1ResourceWrites(
      { memoryBytes: 128 * MiB },
      { currentMemoryLimit: 64 * MiB, hasMemsw: true, includeDevices: false },
    );
    expect(fmt(grow)).toEqual([
      "memory.memsw.limit_in_bytes=134217728",
      "memory.limit_in_bytes=134217728",
    ]);
    const unlimit = v1ResourceWrites(
      { memoryBytes: "max" },
      { currentMemoryLimit: 64 * MiB, hasMemsw: true, includeDevices: false },
    );
    expect(fmt(unlimit)).toEqual(["memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1"]);
  });

  it("skips memsw without swap accounting, and writes cpu, shares, pids, reservation", () => {
    const writes = v1ResourceWrites(
      {
        memoryBytes: 64 * MiB,
        memoryReservationBytes: 32 * MiB,
        cpus: 0.5,
        cpuShares: 512,
        pidsLimit: 20,
      },
      { currentMemoryLimit: null, hasMemsw: false, includeDevices: false },
    );
    expect(fmt(writes)).toEqual([
      "memory.limit_in_bytes=67108864",
      "memory.soft_limit_in_bytes=33554432",
      "cpu.cfs_period_us=100000",
      "cpu.cfs_quota_us=50000",
      "cpu.shares=512",
      "pids.max=20",
    ]);
    expect(writes.map((w) => w.controller)).toEqual([
      "memory",
      "memory",
      "cpu",
      "cpu",
      "cpu",
      "pids",
    ]);
  });

  it("lifts limits with -1 and max", () => {
    const writes = v1ResourceWrites(
      { cpus: "max", pidsLimit: "max", memoryReservationBytes: "max" },
      { currentMemoryLimit: null, hasMemsw: true, includeDevices: false },
    );
    expect(fmt(writes)).toEqual([
      "memory.soft_limit_in_bytes=-1",
      "cpu.cfs_period_us=100000",
      "cpu.cfs_quota_us=-1",
      "pids.max=max",
    ]);
  });
});

describe("v2ResourceWrites", () => {
  const fmt = (ws: { file: string; value: string }[]) => ws.map((w) => `${w.file}=${w.value}`);

  it("writes memory.max with swap forbidden, cpu.max, cpu.weight, pids.max, memory.low", () => {
    const writes = v2ResourceWrites(
      {
        memoryBytes: 64 * MiB,
        memoryReservationBytes: 16 * MiB,
        cpus: 0.5,
        cpuShares: 1024,
        pidsLimit: 20,
      },
      { hasSwapMax: true },
    );
    expect(fmt(writes)).toEqual([
      "memory.max=67108864",
      "memory.swap.max=0",
      "memory.low=16777216",
      "cpu.max=50000 100000",
      "cpu.weight=39",
      "pids.max=20",
    ]);
  });

  it("lifts limits with max and never writes devices", () => {
    const writes = v2ResourceWrites(
      { memoryBytes: "max", cpus: "max", pidsLimit: "max", memoryReservationBytes: "max" },
      { hasSwapMax: true },
    );
    expect(fmt(writes)).toEqual([
      "memory.max=max",
      "memory.swap.max=max",
      "memory.low=0",
      "cpu.max=max 100000",
      "pids.max=max",
    ]);
    expect(
      fmt(v2ResourceWrites({ memoryBytes: 64 * MiB, allowedDevices: [] }, { hasSwapMax: false })),
    ).toEqual(["memory.max=67108864"]);
  });
});
