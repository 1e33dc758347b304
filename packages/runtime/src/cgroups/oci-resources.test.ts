import { describe, expect, it } from "vitest";
import { defaultDeviceRules } from "../spec/docker-defaults.ts";
import { cgroupResourcesFromOci, deviceAllowList } from "./oci-resources.ts";
import { DEFAULT_ALLOWED_DEVICES } from "./resources.ts";

describe("cgroupResourcesFromOci", () => {
  it("gives the spec's default device rules as the driver's default allow-list", () => {
    expect(deviceAllowList(defaultDeviceRules())).toEqual(DEFAULT_ALLOWED_DEVICES);
    expect(DEFAULT_ALLOWED_DEVICES).not.toContain("b *:* m");
  });

  it("maps memory, quota/period, shares and pids", () => {
    expect(
      cgroupResourcesFromOci({
        memory: { limit: 32 << 20, swap: 64 << 20 },
        cpu: { quota: 50_000, period: 100_000, shares: 512 },
        pids: { limit: 20 },
      }),
    ).toEqual({ memoryBytes: 32 << 20, cpus: 0.5, cpuShares: 512, pidsLimit: 20 });
    expect(cgroupResourcesFromOci({ memory: { limit: -1 }, cpu: { quota: -1 } })).toEqual({});
  });

  it("refuses device rules that do not start by denying everything", () => {
    expect(() => deviceAllowList([{ allow: true, access: "rwm" }])).toThrow(/deny/);
  });
});
