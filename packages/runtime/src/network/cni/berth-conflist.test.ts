import { describe, expect, it } from "vitest";
import { renderBridgeList, renderLoopbackList } from "./berth-conflist.ts";
import { networkConfigListSchema } from "./network-list.ts";

describe("Berth's conflists", () => {
  const options = {
    bridgeName: "berth0",
    subnet: "10.89.0.0/16",
    ipamDataDir: "/run/berth/cni/ipam",
  };

  it("renders loopback, bridge with host-local and NAT, then portmap, in that order", () => {
    const list = renderBridgeList(options);
    expect(networkConfigListSchema.parse(list)).toEqual(list);
    expect(list.cniVersion).toBe("1.0.0");
    expect(list.name).toBe("berth0");
    expect(list.plugins.map((p) => p.type)).toEqual(["loopback", "bridge", "portmap"]);
    expect(list.plugins[1]).toEqual({
      type: "bridge",
      bridge: "berth0",
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: "10.89.0.0/16" }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: "/run/berth/cni/ipam",
      },
    });
    expect(list.plugins[2]).toEqual({
      type: "portmap",
      capabilities: { portMappings: true },
      snat: true,
    });
  });

  it.each(["10.89.0.0", "10.89.0.0/31", "fd00::/64", "10.89.0.0/33", ""])(
    "refuses the subnet %j",
    (subnet) => {
      expect(() => renderBridgeList({ ...options, subnet })).toThrow(/invalid bridge subnet/);
    },
  );

  it("none mode is the loopback plugin alone", () => {
    expect(renderLoopbackList().plugins).toEqual([{ type: "loopback" }]);
  });
});
