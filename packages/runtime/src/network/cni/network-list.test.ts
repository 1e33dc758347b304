import { describe, expect, it } from "vitest";
import type { CniResult } from "./cni-result.ts";
import {
  addNetworkList,
  assertPluginsSupportVersion,
  delNetworkList,
  type NetworkConfigList,
} from "./network-list.ts";
import type { PluginInvocation } from "./plugin-exec.ts";

const list: NetworkConfigList = {
  cniVersion: "1.0.0",
  name: "berth0",
  plugins: [
    { type: "loopback" },
    { type: "bridge", bridge: "berth0" },
    { type: "portmap", capabilities: { portMappings: true, bandwidth: false } },
  ],
};

const rt = {
  containerId: "c1",
  netns: "/run/berth/netns/c1",
  ifname: "eth0",
  capabilityArgs: {
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    bandwidth: {},
  },
};

const resultOf = (type: string): CniResult => ({
  cniVersion: "1.0.0",
  interfaces: [{ name: type }],
  ips: [],
  routes: [],
  dns: {},
});

function recorder(fail?: { type: string; command: string }) {
  const calls: PluginInvocation[] = [];
  const run = async (inv: PluginInvocation) => {
    calls.push(inv);
    if (fail && inv.type === fail.type && inv.command === fail.command)
      throw new Error(`${inv.type} failed`);
    return inv.command === "ADD" ? resultOf(inv.type) : undefined;
  };
  return { calls, run };
}

describe("network configuration lists", () => {
  it("ADD chains prevResult and gives runtimeConfig only to plugins declaring the capability", async () => {
    const { calls, run } = recorder();
    const result = await addNetworkList(run, list, rt);
    expect(result.interfaces[0]?.name).toBe("portmap");
    expect(calls.map((c) => `${c.command} ${c.type}`)).toEqual([
      "ADD loopback",
      "ADD bridge",
      "ADD portmap",
    ]);
    const configs = calls.map((c) => c.config as Record<string, unknown>);
    expect(configs[0]).toEqual({ type: "loopback", cniVersion: "1.0.0", name: "berth0" });
    expect(configs[1]?.prevResult).toEqual(resultOf("loopback"));
    expect(configs[1]?.runtimeConfig).toBeUndefined();
    expect(configs[2]?.prevResult).toEqual(resultOf("bridge"));
    // bandwidth is declared false, so it is not passed even though the runtime has a value.
    expect(configs[2]?.runtimeConfig).toEqual({ portMappings: rt.capabilityArgs.portMappings });
    expect(
      calls.every((c) => c.netns === rt.netns && c.containerId === "c1" && c.ifname === "eth0"),
    ).toBe(true);
  });

  it("ADD stops at the first failure", async () => {
    const { calls, run } = recorder({ type: "bridge", command: "ADD" });
    await expect(addNetworkList(run, list, rt)).rejects.toThrow("bridge failed");
    expect(calls.map((c) => c.type)).toEqual(["loopback", "bridge"]);
  });

  it("DEL runs in reverse with the cached result, and keeps going past a failure", async () => {
    const { calls, run } = recorder({ type: "portmap", command: "DEL" });
    const cached = resultOf("cached");
    await expect(delNetworkList(run, list, rt, cached)).rejects.toThrow("portmap failed");
    expect(calls.map((c) => `${c.command} ${c.type}`)).toEqual([
      "DEL portmap",
      "DEL bridge",
      "DEL loopback",
    ]);
    expect(calls.every((c) => (c.config as { prevResult?: unknown }).prevResult === cached)).toBe(
      true,
    );
  });

  it("VERSION: refuses plugins that do not speak 1.0.0", async () => {
    const old = async () => ({ cniVersion: "0.4.0", supportedVersions: ["0.3.1", "0.4.0"] });
    await expect(assertPluginsSupportVersion(old, list)).rejects.toThrow(
      "CNI plugin loopback does not support CNI 1.0.0 (it supports: 0.3.1, 0.4.0)",
    );
    const current = async () => ({ cniVersion: "1.0.0", supportedVersions: ["0.4.0", "1.0.0"] });
    await expect(assertPluginsSupportVersion(current, list)).resolves.toBeUndefined();
  });
});
