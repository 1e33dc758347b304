import net from "node:net";
import { describe, expect, it } from "vitest";
import {
  assertHostPortsFree,
  assertNoDuplicates,
  assertNotPublished,
  overlaps,
  type PortMapping,
  portMappingSchema,
} from "./port-mappings.ts";

const m = (over: Partial<PortMapping> = {}): PortMapping => ({
  hostPort: 8080,
  containerPort: 80,
  protocol: "tcp",
  ...over,
});

describe("port mappings", () => {
  it("defaults the protocol to tcp and validates ranges and addresses", () => {
    expect(portMappingSchema.parse({ hostPort: 8080, containerPort: 80 })).toEqual(m());
    for (const bad of [
      { hostPort: 0, containerPort: 80 },
      { hostPort: 65536, containerPort: 80 },
      { hostPort: 8080, containerPort: 1.5 },
      { hostPort: 8080, containerPort: 80, protocol: "icmp" },
      { hostPort: 8080, containerPort: 80, hostIP: "localhost" },
      { hostPort: 8080, containerPort: 80, hostIP: "::1" },
    ]) {
      expect(portMappingSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("overlap: same protocol and port, and one side on every address or both on the same", () => {
    expect(overlaps(m(), m({ containerPort: 81 }))).toBe(true);
    expect(overlaps(m(), m({ protocol: "udp" }))).toBe(false);
    expect(overlaps(m(), m({ hostPort: 8081 }))).toBe(false);
    expect(overlaps(m({ hostIP: "127.0.0.1" }), m())).toBe(true);
    expect(overlaps(m({ hostIP: "127.0.0.1" }), m({ hostIP: "0.0.0.0" }))).toBe(true);
    expect(overlaps(m({ hostIP: "127.0.0.1" }), m({ hostIP: "127.0.0.2" }))).toBe(false);
  });

  it("refuses a port published twice in one request", () => {
    expect(() => assertNoDuplicates([m(), m({ containerPort: 81 })])).toThrow(
      "port 8080/tcp is published twice",
    );
    expect(() => assertNoDuplicates([m(), m({ protocol: "udp" })])).not.toThrow();
  });

  it("refuses a port another container publishes", () => {
    const published = [{ containerId: "0123456789abcdef0123", portMappings: [m()] }];
    expect(() => assertNotPublished([m({ containerPort: 9 })], published)).toThrow(
      "port 8080 is already published by container 0123456789ab",
    );
    expect(() => assertNotPublished([m({ hostPort: 9090 })], published)).not.toThrow();
  });

  it("finds a port a host process listens on (probing 127.0.0.1 only)", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(
        assertHostPortsFree([m({ hostPort: port, hostIP: "127.0.0.1" })]),
      ).rejects.toMatchObject({
        code: "CONFLICT",
        message: `port ${port} is already in use on the host (127.0.0.1)`,
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
    await expect(
      assertHostPortsFree([m({ hostPort: port, hostIP: "127.0.0.1" })]),
    ).resolves.toBeUndefined();
    await expect(
      assertHostPortsFree([m({ hostPort: port, hostIP: "127.0.0.1", protocol: "udp" })]),
    ).resolves.toBeUndefined();
  });
});
