import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cpuList,
  hostNofileHardLimit,
  nofileLimit,
  thermalThrottlePaths,
} from "./docker-defaults.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 20000                files
`;

describe("docker defaults helpers", () => {
  it("reads the hard NOFILE limit from /proc/self/limits text", () => {
    expect(hostNofileHardLimit(LIMITS)).toBe(20000);
    expect(hostNofileHardLimit(LIMITS.replace("20000", "unlimited"))).toBe(1_048_576);
    expect(hostNofileHardLimit()).toBeGreaterThan(0);
  });

  it("caps NOFILE at 1048576", () => {
    expect(nofileLimit(20000)).toBe(20000);
    expect(nofileLimit(1 << 30)).toBe(1_048_576);
  });

  it("parses kernel CPU lists", () => {
    expect(cpuList("0-3,6,8-9")).toEqual([0, 1, 2, 3, 6, 8, 9]);
    expect(cpuList("0")).toEqual([0]);
  });

  it("finds per-CPU thermal_throttle directories under a sys root", () => {
    const sys = mkdtempSync(join(tmpdir(), "berth-test-sys-"));
    try {
      mkdirSync(join(sys, "devices/system/cpu/cpu1/thermal_throttle"), { recursive: true });
      mkdirSync(join(sys, "devices/system/cpu/cpu0"), { recursive: true });
      writeFileSync(join(sys, "devices/system/cpu/possible"), "0-1\n");
      expect(thermalThrottlePaths(sys)).toEqual(["/sys/devices/system/cpu/cpu1/thermal_throttle"]);
      expect(thermalThrottlePaths(join(sys, "missing"))).toEqual([]);
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });
});
