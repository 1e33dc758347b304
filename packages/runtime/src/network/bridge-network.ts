import fs from "node:fs";
import path from "node:path";
import type { RuntimeConfig } from "../config.ts";
import { type BridgeListOptions, renderBridgeList } from "./cni/berth-conflist.ts";
import type { NetworkConfigList } from "./cni/network-list.ts";
import type { HostCommand } from "./host-command.ts";
import { installLoopbackGuard, removeLoopbackGuard } from "./loopback-guard.ts";

type BridgeConfig = Pick<RuntimeConfig, "runRoot" | "bridgeName" | "subnet">;

/** host-local's lease directory: under runRoot, so Berth's leases are never another runtime's. */
export function ipamDataDir(config: Pick<RuntimeConfig, "runRoot">): string {
  return path.join(config.runRoot, "cni", "ipam");
}

/** The conflist of Berth's bridge network for this configuration. */
export function bridgeList(config: BridgeConfig): NetworkConfigList {
  const options: BridgeListOptions = {
    bridgeName: config.bridgeName,
    subnet: config.subnet,
    ipamDataDir: ipamDataDir(config),
  };
  return renderBridgeList(options);
}

/**
 * What must exist before the first container joins the bridge: the loopback guard. The bridge
 * itself, its gateway address and the NAT rules are made by the bridge plugin on first ADD.
 */
export async function ensureBridgeNetwork(config: BridgeConfig, run: HostCommand): Promise<void> {
  await installLoopbackGuard(config.bridgeName, run);
}

/**
 * Removes what the bridge network leaves once every container is detached: the guard chain, the
 * bridge link (the bridge plugin never deletes it) and host-local's directory for the network.
 * portmap's shared CNI-HOSTPORT-* chains stay, as with every CNI runtime: they are empty by now
 * and other CNI users on the host may share them.
 */
export async function removeBridgeNetwork(config: BridgeConfig, run: HostCommand): Promise<void> {
  await removeLoopbackGuard(config.bridgeName, run);
  if (fs.existsSync(path.join("/sys/class/net", config.bridgeName))) {
    await run("ip", ["link", "delete", config.bridgeName, "type", "bridge"]);
  }
  fs.rmSync(path.join(ipamDataDir(config), config.bridgeName), { recursive: true, force: true });
}
