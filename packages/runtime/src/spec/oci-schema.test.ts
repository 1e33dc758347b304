import { describe, expect, it } from "vitest";
import { ociSpecSchema } from "./oci-schema.ts";

const minimal = {
  ociVersion: "1.0.2",
  process: { user: { uid: 0, gid: 0 }, args: ["sh"], cwd: "/" },
  root: { path: "rootfs" },
};

describe("ociSpecSchema", () => {
  it("accepts a runc-style config.json and drops fields outside the subset", () => {
    const parsed = ociSpecSchema.parse({
      ...minimal,
      hooks: { prestart: [] },
      linux: {
        namespaces: [{ type: "pid" }, { type: "network", path: "/var/run/netns/x" }],
        resources: {
          memory: { limit: 1048576, swap: -1 },
          cpu: { shares: 1024, quota: -1, period: 100000 },
          pids: { limit: 10 },
        },
        sysctl: { "net.ipv4.ip_forward": "1" },
        seccomp: {
          defaultAction: "SCMP_ACT_ERRNO",
          syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }],
        },
      },
    });
    expect(parsed).not.toHaveProperty("hooks");
    expect(parsed.linux!.namespaces![1]!.path).toBe("/var/run/netns/x");
  });

  it.each([
    [{ ...minimal, ociVersion: "2.0.0" }, "ociVersion"],
    [{ ...minimal, process: { ...minimal.process, args: [] } }, "process.args"],
    [{ ...minimal, process: { ...minimal.process, cwd: "rel" } }, "process.cwd"],
    [{ ...minimal, process: { ...minimal.process, env: ["NOEQUALS"] } }, "process.env.0"],
    [
      { ...minimal, process: { ...minimal.process, capabilities: { bounding: ["CAP_FLY"] } } },
      "process.capabilities.bounding.0",
    ],
    [
      {
        ...minimal,
        process: { ...minimal.process, rlimits: [{ type: "RLIMIT_NOFILE", soft: 2, hard: 1 }] },
      },
      "process.rlimits.0",
    ],
    [{ ...minimal, mounts: [{ destination: "proc" }] }, "mounts.0.destination"],
    [{ ...minimal, linux: { namespaces: [{ type: "time-travel" }] } }, "linux.namespaces.0.type"],
    [{ ...minimal, linux: { maskedPaths: ["proc/kcore"] } }, "linux.maskedPaths.0"],
  ])("rejects a bad %#", (spec, path) => {
    const result = ociSpecSchema.safeParse(spec);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join(".")).toBe(path);
  });
});
