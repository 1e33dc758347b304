import { randomBytes } from "node:crypto";
import fs from "node:fs";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RuntimeConfig, resolveRuntimeConfig } from "../config.ts";
import { ipamDataDir } from "./bridge-network.ts";
import { ContainerNetwork } from "./container-network.ts";
import { runHostCommand } from "./host-command.ts";
import {
  guardChainName,
  installLoopbackGuard,
  readRouteLocalnet,
  removeLoopbackGuard,
} from "./loopback-guard.ts";
import {
  bridgePorts,
  freePort,
  type HostNetworkSnapshot,
  inNetns,
  iptablesSave,
  linkNames,
  type NetnsServer,
  restoreHostNetwork,
  snapshotHostNetwork,
  startHostLoopbackServer,
  startServerInNetns,
  tcpRead,
  tcpReadFromNetns,
} from "./test-host-network.ts";

// Test-only names and addresses: a berth-t* bridge and a subnet nothing else on the host uses.
const BRIDGE = "berth-tnet1";
const SUBNET_PREFIX = "10.213.61.";
const canRun = process.getuid?.() === 0 && fs.existsSync("/usr/lib/cni/bridge");

const newId = () => randomBytes(32).toString("hex");

describe.skipIf(!canRun)("container network through Debian's CNI plugins (root)", () => {
  let root: string;
  let config: RuntimeConfig;
  let network: ContainerNetwork;
  let hostBefore: HostNetworkSnapshot;
  const servers: NetnsServer[] = [];
  const hostServers: net.Server[] = [];
  const ids: string[] = [];

  const leases = () =>
    fs.existsSync(path.join(ipamDataDir(config), BRIDGE))
      ? fs
          .readdirSync(path.join(ipamDataDir(config), BRIDGE))
          .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
      : [];

  beforeAll(() => {
    hostBefore = snapshotHostNetwork();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-net-"));
    config = resolveRuntimeConfig({
      root,
      runRoot: path.join(root, "run"),
      bridgeName: BRIDGE,
      subnet: `${SUBNET_PREFIX}0/24`,
    });
    network = new ContainerNetwork(config);
  });

  afterAll(async () => {
    for (const s of servers) s.stop();
    for (const s of hostServers) s.close();
    for (const id of ids) await network.detach(id).catch(() => {});
    await network.removeBridge();
    restoreHostNetwork(hostBefore);

    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
    const save = iptablesSave();
    fs.rmSync(root, { recursive: true, force: true });
    expect(linkNames().filter((l) => l.startsWith("berth-t"))).toEqual([]);
    expect(mounts).not.toContain(root);
    expect(save).not.toContain(BRIDGE);
    expect(save).not.toContain(SUBNET_PREFIX);
    for (const id of ids) expect(save).not.toContain(id);
  });

  it("attaches a container to the bridge: address, interface, reachable from the host", async () => {
    const id = newId();
    ids.push(id);
    const hostPort = await freePort();
    const started = performance.now();
    const a = await network.attach({
      containerId: id,
      mode: "bridge",
      portMappings: [{ hostPort, containerPort: 8080 }],
    });
    console.log(
      `attach (bridge + 1 port, first on the bridge): ${(performance.now() - started).toFixed(0)} ms`,
    );

    expect(a.netnsPath).toBe(path.join(config.runRoot, "netns", id));
    expect(a.ifname).toBe("eth0");
    expect(a.ip).toMatch(new RegExp(`^${SUBNET_PREFIX.replaceAll(".", "\\.")}\\d+$`));
    expect(a.gateway).toBe(`${SUBNET_PREFIX}1`);
    expect(a.prefixLength).toBe(24);

    const addr = inNetns(a.netnsPath!, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
    expect(addr).toContain(`inet ${a.ip}/24`);
    const link = inNetns(a.netnsPath!, ["ip", "-o", "link", "show", "dev", "eth0"]);
    expect(link).toContain(`link/ether ${a.mac}`);
    expect(inNetns(a.netnsPath!, ["ip", "-o", "link", "show", "dev", "lo"])).toContain("UP");
    expect(inNetns(a.netnsPath!, ["ip", "route", "show", "default"])).toContain(`via ${a.gateway}`);
    expect(bridgePorts(BRIDGE)).toHaveLength(1);
    expect(leases()).toEqual([a.ip]);
    expect(network.inspect(id)).toEqual(a);

    servers.push(await startServerInNetns(a.netnsPath!, 8080, "hello from the container"));
    expect(await tcpRead(a.ip!, 8080)).toBe("hello from the container");
    await expect(network.check(id)).resolves.toBeUndefined();
  });

  it("publishes a port on the host: 127.0.0.1:<hostPort> and the gateway address both answer", async () => {
    const id = newId();
    ids.push(id);
    const hostPort = await freePort();
    const a = await network.attach({
      containerId: id,
      mode: "bridge",
      portMappings: [{ hostPort, containerPort: 80 }],
    });
    servers.push(await startServerInNetns(a.netnsPath!, 80, "published"));
    // portmap's DNAT is in OUTPUT for the host's own connections; snat makes 127.0.0.1 work.
    expect(await tcpRead("127.0.0.1", hostPort)).toBe("published");
    expect(await tcpRead(a.gateway!, hostPort)).toBe("published");
    // Hairpin: the container reaches its own published port through the host.
    expect(await tcpReadFromNetns(a.netnsPath!, a.gateway!, hostPort)).toBe("published");
  });

  it("keeps the host's loopback services out of reach, even with route_localnet=1", async () => {
    const id = newId();
    ids.push(id);
    const a = await network.attach({
      containerId: id,
      mode: "bridge",
      portMappings: [{ hostPort: await freePort(), containerPort: 80 }],
    });
    const port = await freePort();
    hostServers.push(await startHostLoopbackServer(port, "host secret"));
    expect(await tcpRead("127.0.0.1", port)).toBe("host secret");

    // The ordinary ways: the container's own loopback, and the gateway (server bound to 127.0.0.1).
    expect(await tcpReadFromNetns(a.netnsPath!, "127.0.0.1", port)).toBe("ERR:ECONNREFUSED");
    expect(await tcpReadFromNetns(a.netnsPath!, a.gateway!, port)).toBe("ERR:ECONNREFUSED");

    // The CVE-2020-8558 way: portmap set route_localnet=1 on the bridge; a container that routes
    // 127.0.0.1 via its gateway sends packets the host would deliver to its loopback services.
    expect(readRouteLocalnet(BRIDGE)).toBe(1);
    const ns = a.netnsPath!;
    inNetns(ns, [
      "ip",
      "route",
      "add",
      "127.0.0.1/32",
      "via",
      a.gateway!,
      "dev",
      "eth0",
      "table",
      "100",
    ]);
    inNetns(ns, ["ip", "rule", "add", "pref", "10", "to", "127.0.0.1/32", "lookup", "100"]);
    inNetns(ns, ["ip", "rule", "del", "pref", "0"]);
    inNetns(ns, ["ip", "rule", "add", "pref", "20", "lookup", "local"]);
    inNetns(ns, ["sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1"]);
    inNetns(ns, ["sysctl", "-q", "-w", "net.ipv4.conf.eth0.route_localnet=1"]);
    expect(inNetns(ns, ["ip", "route", "get", "127.0.0.1"])).toContain(`via ${a.gateway}`);

    expect(await tcpReadFromNetns(ns, "127.0.0.1", port)).toBe("ERR:timeout");
    // Control: without Berth's guard chain the same packets do reach the host's loopback server,
    // so the line above passes because of the guard and not by accident.
    await removeLoopbackGuard(BRIDGE, runHostCommand);
    try {
      expect(await tcpReadFromNetns(ns, "127.0.0.1", port)).toBe("host secret");
    } finally {
      await installLoopbackGuard(BRIDGE, runHostCommand);
    }
    expect(await tcpReadFromNetns(ns, "127.0.0.1", port)).toBe("ERR:timeout");
    expect(iptablesSave()).toContain(`-A INPUT -i ${BRIDGE} -j ${guardChainName(BRIDGE)}`);
  });

  it("mode none: its own namespace with only lo, up", async () => {
    const id = newId();
    ids.push(id);
    const a = await network.attach({ containerId: id, mode: "none" });
    expect(a).toMatchObject({ mode: "none", ip: null, ifname: null });
    const links = inNetns(a.netnsPath!, ["ip", "-o", "link", "show"]).trim().split("\n");
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    expect(inNetns(a.netnsPath!, ["ip", "-o", "addr", "show", "dev", "lo"])).toContain(
      "127.0.0.1/8",
    );
    await network.detach(id);
    expect(fs.existsSync(a.netnsPath!)).toBe(false);
  });

  it("mode host: no namespace, nothing recorded", async () => {
    const a = await network.attach({ containerId: newId(), mode: "host" });
    expect(a).toMatchObject({ mode: "host", netnsPath: null, ip: null });
  });

  it("detach removes the veth, the namespace, the rules and the lease, and is idempotent", async () => {
    const id = newId();
    const hostPort = await freePort();
    const portsBefore = bridgePorts(BRIDGE).length;
    const a = await network.attach({
      containerId: id,
      mode: "bridge",
      portMappings: [{ hostPort, containerPort: 80 }],
    });
    expect(iptablesSave()).toContain(id);
    expect(leases()).toContain(a.ip);
    expect(bridgePorts(BRIDGE)).toHaveLength(portsBefore + 1);

    const started = performance.now();
    await network.detach(id);
    console.log(`detach (bridge + 1 port): ${(performance.now() - started).toFixed(0)} ms`);
    expect(bridgePorts(BRIDGE)).toHaveLength(portsBefore);
    expect(fs.existsSync(a.netnsPath!)).toBe(false);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(a.netnsPath!);
    expect(iptablesSave()).not.toContain(id);
    expect(leases()).not.toContain(a.ip);
    expect(network.inspect(id)).toBeNull();
    await network.detach(id);
    await network.detach(newId()); // never attached
  });

  it("refuses a host port in use before touching anything", async () => {
    const port = await freePort();
    hostServers.push(await startHostLoopbackServer(port, "taken"));
    const id = newId();
    const portsBefore = bridgePorts(BRIDGE).length;
    const leasesBefore = leases();
    await expect(
      network.attach({
        containerId: id,
        mode: "bridge",
        portMappings: [{ hostPort: port, containerPort: 80 }],
      }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: `port ${port} is already in use on the host`,
    });
    expect(fs.existsSync(path.join(config.runRoot, "netns", id))).toBe(false);
    expect(fs.existsSync(path.join(config.runRoot, "network", `${id}.json`))).toBe(false);
    expect(bridgePorts(BRIDGE)).toHaveLength(portsBefore);
    expect(leases()).toEqual(leasesBefore);
    expect(iptablesSave()).not.toContain(id);
  });

  it("refuses a host port another container already publishes", async () => {
    const id = newId();
    ids.push(id);
    const hostPort = await freePort();
    await network.attach({
      containerId: id,
      mode: "bridge",
      portMappings: [{ hostPort, containerPort: 80 }],
    });
    const other = newId();
    await expect(
      network.attach({
        containerId: other,
        mode: "bridge",
        portMappings: [{ hostPort, containerPort: 81 }],
      }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: `port ${hostPort} is already published by container ${id.slice(0, 12)}`,
    });
    expect(iptablesSave()).not.toContain(other);
  });

  it("rolls back a failed ADD half way: bridge plugin's veth, lease and NAT rules are undone", async () => {
    // Real loopback, bridge and host-local; a portmap that fails ADD like a real plugin would.
    const pluginDir = path.join(root, "plugins");
    fs.mkdirSync(pluginDir, { recursive: true });
    for (const p of ["loopback", "bridge", "host-local"]) {
      fs.symlinkSync(path.join("/usr/lib/cni", p), path.join(pluginDir, p));
    }
    fs.writeFileSync(
      path.join(pluginDir, "portmap"),
      `#!/bin/sh
case "$CNI_COMMAND" in
  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}' ;;
  ADD) echo '{"cniVersion":"1.0.0","code":11,"msg":"injected failure"}'; exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    const failing = new ContainerNetwork({ ...config, cniPluginDir: pluginDir });
    const id = newId();
    const portsBefore = bridgePorts(BRIDGE).length;
    const leasesBefore = leases();
    await expect(
      failing.attach({
        containerId: id,
        mode: "bridge",
        portMappings: [{ hostPort: await freePort(), containerPort: 80 }],
      }),
    ).rejects.toMatchObject({
      code: "NETWORK_FAILED",
      message: `CNI plugin portmap ADD for container ${id.slice(0, 12)} failed: injected failure (code 11)`,
    });
    expect(bridgePorts(BRIDGE)).toHaveLength(portsBefore);
    expect(leases()).toEqual(leasesBefore);
    expect(iptablesSave()).not.toContain(id);
    expect(fs.existsSync(path.join(config.runRoot, "netns", id))).toBe(false);
    expect(failing.inspect(id)).toBeNull();
  });

  it("measures attach and detach of a bridge container (median of 5)", async () => {
    const attachMs: number[] = [];
    const detachMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const id = newId();
      let t = performance.now();
      await network.attach({
        containerId: id,
        mode: "bridge",
        portMappings: [{ hostPort: await freePort(), containerPort: 80 }],
      });
      attachMs.push(performance.now() - t);
      t = performance.now();
      await network.detach(id);
      detachMs.push(performance.now() - t);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    console.log(
      `attach median ${median(attachMs).toFixed(0)} ms, detach median ${median(detachMs).toFixed(0)} ms`,
    );
  });
});
