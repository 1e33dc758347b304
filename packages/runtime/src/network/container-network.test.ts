import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RuntimeConfig, resolveRuntimeConfig } from "../config.ts";
import type { PluginInvocation } from "./cni/plugin-exec.ts";
import { ContainerNetwork } from "./container-network.ts";
import { freePort } from "./free-port.ts";
import type { NetnsRegistry } from "./netns.ts";

const ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const bridgeResult = (netns: string) => ({
  cniVersion: "1.0.0",
  interfaces: [
    { name: "berth0", mac: "ce:7d:0c:89:7f:ae" },
    { name: "veth1", mac: "b6:70:18:25:8c:57" },
    { name: "eth0", mac: "aa:23:a2:a4:d8:a0", sandbox: netns },
  ],
  ips: [{ interface: 2, address: "10.89.0.2/16", gateway: "10.89.0.1" }],
});

/** Plugins that answer like Debian's, record every call, and fail where told. */
function fakePlugins(failOn?: string) {
  const calls: PluginInvocation[] = [];
  const run = async (inv: PluginInvocation) => {
    calls.push(inv);
    if (inv.command === "VERSION") return { cniVersion: "1.0.0", supportedVersions: ["1.0.0"] };
    if (`${inv.command} ${inv.type}` === failOn) throw new Error(`${failOn} failed`);
    if (inv.command !== "ADD") return undefined;
    if (inv.type === "bridge") return bridgeResult(inv.netns);
    const prev = (inv.config as { prevResult?: unknown }).prevResult;
    return prev ?? { cniVersion: "1.0.0", interfaces: [{ name: "lo", sandbox: inv.netns }] };
  };
  const trace = () =>
    calls.filter((c) => c.command !== "VERSION").map((c) => `${c.command} ${c.type}`);
  return { calls, run, trace };
}

function fakeNetns(runRoot: string): NetnsRegistry & { pinned: Set<string> } {
  const pinned = new Set<string>();
  return {
    pinned,
    pathOf: (id) => path.join(runRoot, "netns", id),
    create: async (id) => {
      pinned.add(id);
      return path.join(runRoot, "netns", id);
    },
    remove: (id) => void pinned.delete(id),
    exists: (id) => pinned.has(id),
  };
}

describe("ContainerNetwork (fake plugins, no root)", () => {
  let runRoot: string;
  let config: RuntimeConfig;
  let iptables: string[];
  const hostCommand = async (file: string, args: readonly string[]) => {
    iptables.push([file, ...args].join(" "));
    return "";
  };
  const records = () =>
    fs.existsSync(path.join(runRoot, "network"))
      ? fs.readdirSync(path.join(runRoot, "network"))
      : [];

  beforeEach(() => {
    runRoot = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-cn-"));
    config = resolveRuntimeConfig({ runRoot });
    iptables = [];
  });
  afterEach(() => fs.rmSync(runRoot, { recursive: true, force: true }));

  it("bridge: runs loopback, bridge, portmap and reports the container's address", async () => {
    const plugins = fakePlugins();
    const netns = fakeNetns(runRoot);
    const network = new ContainerNetwork(config, { runPlugin: plugins.run, netns, hostCommand });
    // A port nothing on the host holds (the attach checks it is free, as it must).
    const mapping = { hostPort: await freePort(), containerPort: 80, hostIP: "127.0.0.1" };
    const a = await network.attach({ containerId: ID, mode: "bridge", portMappings: [mapping] });
    expect(a).toEqual({
      containerId: ID,
      mode: "bridge",
      netnsPath: path.join(runRoot, "netns", ID),
      ip: "10.89.0.2",
      prefixLength: 16,
      gateway: "10.89.0.1",
      mac: "aa:23:a2:a4:d8:a0",
      ifname: "eth0",
      portMappings: [{ ...mapping, protocol: "tcp" }],
    });
    expect(plugins.trace()).toEqual(["ADD loopback", "ADD bridge", "ADD portmap"]);
    const portmap = plugins.calls.find((c) => c.type === "portmap" && c.command === "ADD")!;
    expect((portmap.config as { runtimeConfig: unknown }).runtimeConfig).toEqual({
      portMappings: [{ ...mapping, protocol: "tcp" }],
    });
    // The guard is ensured (this fake iptables says every rule already exists).
    expect(iptables).toContain("iptables -w -C INPUT -i berth0 -j berth0-guard");
    expect(network.inspect(ID)).toEqual(a);
  });

  it("detach: DEL in reverse with the cached result, then namespace and record; twice is fine", async () => {
    const plugins = fakePlugins();
    const netns = fakeNetns(runRoot);
    const network = new ContainerNetwork(config, { runPlugin: plugins.run, netns, hostCommand });
    await network.attach({ containerId: ID, mode: "bridge" });
    plugins.calls.length = 0;
    await network.detach(ID);
    expect(plugins.trace()).toEqual(["DEL portmap", "DEL bridge", "DEL loopback"]);
    expect((plugins.calls[0]!.config as { prevResult: unknown }).prevResult).toMatchObject({
      ips: [{ address: "10.89.0.2/16" }],
    });
    expect(netns.pinned.size).toBe(0);
    expect(records()).toEqual([]);
    await network.detach(ID);
    expect(plugins.trace()).toHaveLength(3);
  });

  it("a failed ADD half way is rolled back completely and the error names the plugin", async () => {
    const plugins = fakePlugins("ADD portmap");
    const netns = fakeNetns(runRoot);
    const network = new ContainerNetwork(config, { runPlugin: plugins.run, netns, hostCommand });
    await expect(network.attach({ containerId: ID, mode: "bridge" })).rejects.toThrow(
      "ADD portmap failed",
    );
    expect(plugins.trace()).toEqual([
      ...["ADD loopback", "ADD bridge", "ADD portmap"],
      ...["DEL portmap", "DEL bridge", "DEL loopback"],
    ]);
    expect(netns.pinned.size).toBe(0);
    expect(records()).toEqual([]);
  });

  it("when the rollback fails too, the record stays for detach to finish, and the error says so", async () => {
    const plugins = fakePlugins("ADD portmap");
    const netns = fakeNetns(runRoot);
    const network = new ContainerNetwork(config, { runPlugin: plugins.run, netns, hostCommand });
    const failingDel = async (inv: PluginInvocation) => {
      if (inv.command === "DEL" && inv.type === "bridge") throw new Error("bridge DEL failed");
      return plugins.run(inv);
    };
    const flaky = new ContainerNetwork(config, { runPlugin: failingDel, netns, hostCommand });
    await expect(flaky.attach({ containerId: ID, mode: "bridge" })).rejects.toThrow(
      "ADD portmap failed; undoing the partial attach also failed (detach retries it): bridge DEL failed",
    );
    expect(records()).toEqual([`${ID}.json`]);
    await network.detach(ID);
    expect(records()).toEqual([]);
    expect(netns.pinned.size).toBe(0);
  });

  it("none: a namespace with the loopback plugin only; host: nothing at all", async () => {
    const plugins = fakePlugins();
    const netns = fakeNetns(runRoot);
    const network = new ContainerNetwork(config, { runPlugin: plugins.run, netns, hostCommand });
    const none = await network.attach({ containerId: ID, mode: "none" });
    expect(none).toMatchObject({
      mode: "none",
      ip: null,
      ifname: null,
      netnsPath: netns.pathOf(ID),
    });
    expect(plugins.trace()).toEqual(["ADD loopback"]);
    expect(iptables).toEqual([]);
    const host = await network.attach({ containerId: "other", mode: "host" });
    expect(host).toMatchObject({ mode: "host", netnsPath: null, ip: null });
    expect(plugins.trace()).toEqual(["ADD loopback"]);
  });

  it("bad requests fail before anything runs", async () => {
    const plugins = fakePlugins();
    const netns = fakeNetns(runRoot);
    const network = new ContainerNetwork(config, { runPlugin: plugins.run, netns, hostCommand });
    const port = { hostPort: 8080, containerPort: 80 };
    await expect(
      network.attach({ containerId: ID, mode: "host", portMappings: [port] }),
    ).rejects.toThrow(
      "publishing ports needs --network bridge (this container uses --network host)",
    );
    await expect(network.attach({ containerId: "../etc", mode: "bridge" })).rejects.toThrow(
      'invalid container ID "../etc"',
    );
    await expect(
      network.attach({
        containerId: ID,
        mode: "bridge",
        portMappings: [{ hostPort: 0, containerPort: 80 }],
      }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      network.attach({ containerId: ID, mode: "bridge", portMappings: [port, port] }),
    ).rejects.toThrow("port 8080/tcp is published twice");
    expect(plugins.trace()).toEqual([]);
    expect(netns.pinned.size).toBe(0);
    expect(records()).toEqual([]);
  });

  it("a second attach of the same container is refused", async () => {
    const plugins = fakePlugins();
    const network = new ContainerNetwork(config, {
      runPlugin: plugins.run,
      netns: fakeNetns(runRoot),
      hostCommand,
    });
    await network.attach({ containerId: ID, mode: "none" });
    await expect(network.attach({ containerId: ID, mode: "none" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });

  it("removeBridge refuses while a container uses the bridge", async () => {
    const plugins = fakePlugins();
    const network = new ContainerNetwork(config, {
      runPlugin: plugins.run,
      netns: fakeNetns(runRoot),
      hostCommand,
    });
    await network.attach({ containerId: ID, mode: "bridge" });
    await expect(network.removeBridge()).rejects.toThrow(
      "bridge berth0 is still used by 1 container(s), e.g. 0123456789ab",
    );
  });
});
