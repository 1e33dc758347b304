import dgram from "node:dgram";
import net from "node:net";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { shortId } from "./container-id.ts";

const port = z.number().int().min(1).max(65535);

/** One `-p [hostIP:]hostPort:containerPort[/proto]`, in the shape of portmap's portMappings capability. */
export const portMappingSchema = z.object({
  hostPort: port,
  containerPort: port,
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
  /** The host address to publish on; every host address when absent. IPv4 only, like the network. */
  hostIP: z.ipv4().optional(),
});

export type PortMapping = z.infer<typeof portMappingSchema>;
export type PortMappingInput = z.input<typeof portMappingSchema>;

/** Ports already published by other attachments, for the conflict check. */
export interface PublishedPorts {
  containerId: string;
  portMappings: readonly PortMapping[];
}

/** `8080/tcp` or `127.0.0.1:8080/tcp`, as messages show a mapping's host side. */
export function describeHostSide(m: PortMapping): string {
  return `${m.hostIP ? `${m.hostIP}:` : ""}${m.hostPort}/${m.protocol}`;
}

/** Two mappings collide when protocol and host port match and either side takes every address. */
export function overlaps(a: PortMapping, b: PortMapping): boolean {
  if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) return false;
  const wildcard = (ip?: string) => ip === undefined || ip === "0.0.0.0";
  return wildcard(a.hostIP) || wildcard(b.hostIP) || a.hostIP === b.hostIP;
}

/** Throws CONFLICT when the request publishes one host port twice. */
export function assertNoDuplicates(mappings: readonly PortMapping[]): void {
  mappings.forEach((m, i) => {
    const twin = mappings.slice(i + 1).find((other) => overlaps(m, other));
    if (twin) {
      throw new RuntimeError("CONFLICT", `port ${describeHostSide(m)} is published twice`, {
        hostPort: m.hostPort,
      });
    }
  });
}

/**
 * Throws CONFLICT when another attachment already publishes the port. portmap only writes DNAT
 * rules and holds no socket, so the host-bind probe cannot see Berth's own publications.
 */
export function assertNotPublished(
  mappings: readonly PortMapping[],
  published: readonly PublishedPorts[],
): void {
  for (const m of mappings) {
    for (const other of published) {
      if (other.portMappings.some((o) => overlaps(m, o))) {
        throw new RuntimeError(
          "CONFLICT",
          `port ${m.hostPort} is already published by container ${shortId(other.containerId)}`,
          { hostPort: m.hostPort, containerId: other.containerId },
        );
      }
    }
  }
}

/**
 * Binds and releases each host port, so a port some host process listens on is refused before
 * anything is created: DNAT would silently steal that port's traffic from the process.
 */
export async function assertHostPortsFree(mappings: readonly PortMapping[]): Promise<void> {
  for (const m of mappings) {
    const address = m.hostIP ?? "0.0.0.0";
    try {
      await (m.protocol === "tcp" ? probeTcp(address, m.hostPort) : probeUdp(address, m.hostPort));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const on = m.hostIP ? ` (${m.hostIP})` : "";
      if (code === "EADDRINUSE") {
        throw new RuntimeError(
          "CONFLICT",
          `port ${m.hostPort} is already in use on the host${on}`,
          { hostPort: m.hostPort, protocol: m.protocol },
        );
      }
      if (code === "EADDRNOTAVAIL") {
        throw new RuntimeError(
          "INVALID_ARGUMENT",
          `cannot publish port ${m.hostPort} on ${m.hostIP}: not an address of this host`,
        );
      }
      throw new RuntimeError(
        "NETWORK_FAILED",
        `checking host port ${describeHostSide(m)} failed: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
  }
}

function probeTcp(host: string, portNumber: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host, port: portNumber, exclusive: true }, () => server.close(() => resolve()));
  });
}

function probeUdp(address: string, portNumber: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", (e) => {
      socket.close();
      reject(e);
    });
    socket.bind({ address, port: portNumber, exclusive: true }, () =>
      socket.close(() => resolve()),
    );
  });
}
