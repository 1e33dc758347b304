import { describe, expect, it } from "vitest";
import { cniResultSchema, sandboxAddress } from "./cni-result.ts";

// What Debian 12's bridge plugin (1.1.1) printed for an ADD on this machine.
const BRIDGE_RESULT = {
  cniVersion: "1.0.0",
  interfaces: [
    { name: "berth-t9", mac: "ce:7d:0c:89:7f:ae" },
    { name: "vethb665664d", mac: "b6:70:18:25:8c:57" },
    { name: "eth0", mac: "aa:23:a2:a4:d8:a0", sandbox: "/run/berth/netns/c1" },
  ],
  ips: [{ interface: 2, address: "10.213.9.2/24", gateway: "10.213.9.1" }],
  routes: [{ dst: "0.0.0.0/0" }],
  dns: {},
};

describe("CNI 1.0.0 results", () => {
  it("parses the bridge plugin's result and finds the container's address", () => {
    const result = cniResultSchema.parse(BRIDGE_RESULT);
    expect(sandboxAddress(result, "eth0")).toEqual({
      ip: "10.213.9.2",
      prefixLength: 24,
      gateway: "10.213.9.1",
      mac: "aa:23:a2:a4:d8:a0",
    });
  });

  it("finds nothing for an interface that is not in the sandbox", () => {
    const result = cniResultSchema.parse(BRIDGE_RESULT);
    expect(sandboxAddress(result, "berth-t9")).toBeNull();
    expect(sandboxAddress(cniResultSchema.parse({ cniVersion: "1.0.0" }), "eth0")).toBeNull();
  });

  it("fills the optional lists", () => {
    expect(cniResultSchema.parse({ cniVersion: "1.0.0" })).toEqual({
      cniVersion: "1.0.0",
      interfaces: [],
      ips: [],
      routes: [],
      dns: {},
    });
  });

  it.each([
    ["an older version", { ...BRIDGE_RESULT, cniVersion: "0.4.0" }],
    [
      "an address without prefix",
      { ...BRIDGE_RESULT, ips: [{ interface: 2, address: "10.213.9.2" }] },
    ],
    [
      "a dangling interface index",
      { ...BRIDGE_RESULT, ips: [{ interface: 7, address: "10.213.9.2/24" }] },
    ],
    ["a bad MAC", { ...BRIDGE_RESULT, interfaces: [{ name: "eth0", mac: "zz" }] }],
    ["a bad gateway", { ...BRIDGE_RESULT, ips: [{ address: "10.213.9.2/24", gateway: "gw" }] }],
  ])("rejects %s", (_what, result) => {
    expect(cniResultSchema.safeParse(result).success).toBe(false);
  });
});
