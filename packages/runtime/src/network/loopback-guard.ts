import fs from "node:fs";
import type { HostCommand } from "./host-command.ts";

/**
 * Keeps the host's loopback services out of containers' reach (CVE-2020-8558's lesson).
 *
 * portmap's `snat` (needed for 127.0.0.1:<hostPort>) sets route_localnet=1 on the bridge. From then
 * on the host accepts packets arriving on the bridge for 127.0.0.0/8, so a container that routes
 * 127.0.0.1 via its gateway (root in the container, or NET_RAW) reaches services the host bound to
 * loopback only. This berth-owned chain, jumped to from INPUT for the bridge, drops such packets
 * unless they belong to a connection the host opened (replies to 127.0.0.1:<hostPort> traffic).
 *
 * Not covered, as with Docker: host services bound to 0.0.0.0 or to the gateway address are
 * reachable from containers through the gateway; bind them to 127.0.0.1 to hide them.
 */
export function guardChainName(bridgeName: string): string {
  return `${bridgeName}-guard`;
}

const IPTABLES = "iptables";

function dropRule(bridgeName: string): string[] {
  return [
    ...["-d", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED"],
    ...["-m", "comment", "--comment", `berth: ${bridgeName} must not reach host loopback`],
    ...["-j", "DROP"],
  ];
}

function jumpRule(bridgeName: string): string[] {
  return ["-i", bridgeName, "-j", guardChainName(bridgeName)];
}

async function succeeds(run: HostCommand, args: string[]): Promise<boolean> {
  try {
    await run(IPTABLES, args);
    return true;
  } catch {
    return false;
  }
}

/** Creates the chain, its DROP rule and the INPUT jump; each step is skipped when present. */
export async function installLoopbackGuard(bridgeName: string, run: HostCommand): Promise<void> {
  const chain = guardChainName(bridgeName);
  if (!(await succeeds(run, ["-w", "-n", "-L", chain]))) {
    await run(IPTABLES, ["-w", "-N", chain]);
  }
  if (!(await succeeds(run, ["-w", "-C", chain, ...dropRule(bridgeName)]))) {
    await run(IPTABLES, ["-w", "-A", chain, ...dropRule(bridgeName)]);
  }
  // First in INPUT, so no host rule that ACCEPTs earlier can let the packets through.
  if (!(await succeeds(run, ["-w", "-C", "INPUT", ...jumpRule(bridgeName)]))) {
    await run(IPTABLES, ["-w", "-I", "INPUT", "1", ...jumpRule(bridgeName)]);
  }
}

/** Whether the INPUT jump and the chain's DROP rule are both in place. */
export async function hasLoopbackGuard(bridgeName: string, run: HostCommand): Promise<boolean> {
  return (
    (await succeeds(run, ["-w", "-C", "INPUT", ...jumpRule(bridgeName)])) &&
    (await succeeds(run, ["-w", "-C", guardChainName(bridgeName), ...dropRule(bridgeName)]))
  );
}

/** Removes the jump(s) and the chain; does nothing for parts already gone. */
export async function removeLoopbackGuard(bridgeName: string, run: HostCommand): Promise<void> {
  const chain = guardChainName(bridgeName);
  // Duplicates can exist if two processes installed at once; delete until none is left.
  for (let i = 0; i < 16; i++) {
    if (!(await succeeds(run, ["-w", "-D", "INPUT", ...jumpRule(bridgeName)]))) break;
  }
  if (await succeeds(run, ["-w", "-n", "-L", chain])) {
    await run(IPTABLES, ["-w", "-F", chain]);
    await run(IPTABLES, ["-w", "-X", chain]);
  }
}

/** The bridge's route_localnet sysctl (1 once portmap has published a port), or null without a bridge. */
export function readRouteLocalnet(bridgeName: string): number | null {
  try {
    return Number(
      fs.readFileSync(`/proc/sys/net/ipv4/conf/${bridgeName}/route_localnet`, "utf8").trim(),
    );
  } catch {
    return null;
  }
}
