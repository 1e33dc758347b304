import { describe, expect, it } from "vitest";
import {
  CAP_LAST_CAP,
  CAPABILITY_NAMES,
  capabilitiesFromMask,
  capabilityMask,
  capabilityName,
  capabilityNumber,
  capsetWords,
  DOCKER_DEFAULT_CAPABILITIES,
  normalizeCapabilityName,
  resolveCapabilities,
} from "./capabilities.ts";

function thrown(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error("expected an error");
}

describe("capability table", () => {
  it("has the kernel's 41 capabilities, numbered as in capability.h", () => {
    expect(CAPABILITY_NAMES).toHaveLength(41);
    expect(CAP_LAST_CAP).toBe(40);
    expect(capabilityNumber("CAP_CHOWN")).toBe(0);
    expect(capabilityNumber("CAP_NET_RAW")).toBe(13);
    expect(capabilityNumber("CAP_SYS_ADMIN")).toBe(21);
    expect(capabilityNumber("CAP_MKNOD")).toBe(27);
    expect(capabilityNumber("CAP_SETFCAP")).toBe(31);
    expect(capabilityNumber("CAP_MAC_OVERRIDE")).toBe(32);
    expect(capabilityNumber("CAP_AUDIT_READ")).toBe(37);
    expect(capabilityNumber("CAP_PERFMON")).toBe(38);
    expect(capabilityNumber("CAP_BPF")).toBe(39);
    expect(capabilityNumber("CAP_CHECKPOINT_RESTORE")).toBe(40);
    expect(capabilityName(24)).toBe("CAP_SYS_RESOURCE");
    expect(capabilityName(41)).toBeUndefined();
  });

  it("accepts names with or without CAP_, in any case", () => {
    expect(capabilityNumber("net_admin")).toBe(12);
    expect(normalizeCapabilityName("sys_ptrace")).toBe("CAP_SYS_PTRACE");
    expect(normalizeCapabilityName("Cap_Kill")).toBe("CAP_KILL");
  });

  it("rejects unknown names with one clear line", () => {
    const e = thrown(() => normalizeCapabilityName("NET_FOO"));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toBe(
      'unknown capability "NET_FOO": expected a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL',
    );
  });
});

describe("masks", () => {
  it("Docker's default set is 0x00000000a80425fb", () => {
    expect(DOCKER_DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(capabilityMask(DOCKER_DEFAULT_CAPABILITIES)).toBe(0x00000000a80425fbn);
  });

  it("round-trips masks and refuses bits past CAP_LAST_CAP", () => {
    expect(capabilitiesFromMask(0xa80425fbn)).toEqual(
      [...DOCKER_DEFAULT_CAPABILITIES].sort((a, b) => capabilityNumber(a)! - capabilityNumber(b)!),
    );
    expect(capabilityMask(CAPABILITY_NAMES)).toBe((1n << 41n) - 1n);
    expect(thrown(() => capabilitiesFromMask(1n << 41n)).message).toBe(
      "capability mask 0x20000000000 has bits outside 0..40",
    );
  });

  it("splits masks into the two capset words", () => {
    const all = capabilityMask(CAPABILITY_NAMES);
    const [lo, hi] = capsetWords({ effective: all, permitted: 0xa80425fbn, inheritable: 0n });
    expect(lo).toEqual({ effective: 0xffffffff, permitted: 0xa80425fb, inheritable: 0 });
    expect(hi).toEqual({ effective: 0x1ff, permitted: 0, inheritable: 0 });
  });
});

describe("resolveCapabilities (--cap-add / --cap-drop)", () => {
  const sorted = (names: string[]) => capabilitiesFromMask(capabilityMask(names));

  it("returns Docker's defaults when nothing is asked", () => {
    expect(resolveCapabilities()).toEqual(sorted([...DOCKER_DEFAULT_CAPABILITIES]));
  });

  it("adds and drops by name, without CAP_ and in any case", () => {
    const caps = resolveCapabilities({
      add: ["net_admin", "CAP_SYS_PTRACE"],
      drop: ["mknod", "CAP_NET_RAW"],
    });
    expect(caps).toContain("CAP_NET_ADMIN");
    expect(caps).toContain("CAP_SYS_PTRACE");
    expect(caps).not.toContain("CAP_MKNOD");
    expect(caps).not.toContain("CAP_NET_RAW");
    expect(caps).toHaveLength(14);
  });

  it("keeps a capability both added and dropped, as Docker does", () => {
    expect(resolveCapabilities({ add: ["KILL"], drop: ["KILL"] })).toContain("CAP_KILL");
  });

  it("--cap-add ALL gives everything except the drops", () => {
    const caps = resolveCapabilities({ add: ["ALL"], drop: ["sys_admin"] });
    expect(caps).toHaveLength(40);
    expect(caps).not.toContain("CAP_SYS_ADMIN");
  });

  it("--cap-drop ALL keeps only the adds", () => {
    expect(resolveCapabilities({ drop: ["all"], add: ["NET_BIND_SERVICE", "chown"] })).toEqual([
      "CAP_CHOWN",
      "CAP_NET_BIND_SERVICE",
    ]);
    expect(resolveCapabilities({ drop: ["ALL"] })).toEqual([]);
  });

  it("rejects unknown names in either list", () => {
    expect(thrown(() => resolveCapabilities({ add: ["WIZARD"] })).message).toMatch(
      /^unknown capability "WIZARD"/,
    );
    expect(thrown(() => resolveCapabilities({ drop: ["CAP_NOPE"] })).code).toBe("INVALID_ARGUMENT");
  });
});
