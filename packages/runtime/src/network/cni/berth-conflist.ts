import { z } from "zod";
import { RuntimeError } from "../../errors.ts";
import { CNI_VERSION } from "./cni-result.ts";
import type { NetworkConfigList } from "./network-list.ts";

export interface BridgeListOptions {
  /** Host bridge (config.bridgeName); also the network's name, so leases and rules carry it. */
  bridgeName: string;
  /** IPv4 subnet in CIDR form; the bridge takes its first address as the gateway. */
  subnet: string;
  /** Where host-local keeps its leases: under Berth's runRoot, so they are Berth's alone. */
  ipamDataDir: string;
}

const subnetSchema = z.cidrv4().refine((s) => Number(s.split("/")[1]) <= 30, {
  message: "needs a prefix of /30 or shorter (room for the gateway and containers)",
});

/**
 * Berth's bridge network: lo up, a veth to the bridge with an address from host-local and egress
 * NAT (ipMasq), then published ports (portmap). Order matters: portmap needs bridge's result.
 */
export function renderBridgeList(options: BridgeListOptions): NetworkConfigList {
  const subnet = subnetSchema.safeParse(options.subnet);
  if (!subnet.success) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid bridge subnet ${JSON.stringify(options.subnet)}: ${subnet.error.issues[0]?.message}`,
    );
  }
  return {
    cniVersion: CNI_VERSION,
    name: options.bridgeName,
    plugins: [
      { type: "loopback" },
      {
        type: "bridge",
        bridge: options.bridgeName,
        isGateway: true,
        ipMasq: true,
        // Lets a container reach its own published port through the host (hairpin NAT).
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: subnet.data }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: options.ipamDataDir,
        },
      },
      {
        type: "portmap",
        capabilities: { portMappings: true },
        // snat makes 127.0.0.1:<hostPort> work from the host; portmap then sets route_localnet=1
        // on the bridge, which is why loopback-guard.ts drops container traffic to 127.0.0.0/8.
        snat: true,
      },
      // No `firewall` plugin: this host's FORWARD policy is ACCEPT, and the plugin's CNI-FORWARD /
      // CNI-ADMIN chains would outlive every container. Hosts with a DROP policy need it (or a rule).
    ],
  };
}

/** `--network none`: a namespace of its own with only lo, brought up by the loopback plugin. */
export function renderLoopbackList(): NetworkConfigList {
  return { cniVersion: CNI_VERSION, name: "berth-none", plugins: [{ type: "loopback" }] };
}
