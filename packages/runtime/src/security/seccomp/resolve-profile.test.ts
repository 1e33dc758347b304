import { describe, expect, it } from "vitest";
import { DOCKER_DEFAULT_CAPABILITIES } from "../capabilities.ts";
import { DOCKER_DEFAULT_SECCOMP_PROFILE } from "./default-profile.ts";
import type { SeccompProfile } from "./profile-schema.ts";
import { resolveSeccompProfile } from "./resolve-profile.ts";

const namesOf = (p: ReturnType<typeof resolveSeccompProfile>) =>
  (p.syscalls ?? []).flatMap((s) => s.names);

describe("resolveSeccompProfile", () => {
  it("turns Docker's profile into the OCI form for x86_64", () => {
    const oci = resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP_PROFILE, {
      capabilities: DOCKER_DEFAULT_CAPABILITIES,
      kernelRelease: "6.18.44-fc-v595",
    });
    expect(oci.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(oci.defaultErrnoRet).toBe(1);
    expect(oci.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    const names = namesOf(oci);
    expect(names).toContain("arch_prctl");
    expect(names).toContain("chroot"); // CAP_SYS_CHROOT
    expect(names).not.toContain("mount");
    expect(names).not.toContain("s390_runtime_instr");
    expect(names).not.toContain("cacheflush");
    const clone = oci.syscalls!.filter((s) => s.names.includes("clone"));
    expect(clone).toEqual([
      {
        names: ["clone"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 0x7e020000, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ]);
    expect(oci.syscalls!.find((s) => s.names.includes("clone3"))).toEqual({
      names: ["clone3"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 38,
    });
  });

  it("includes need every listed capability; excludes drop a rule on any", () => {
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["a"],
          action: "SCMP_ACT_ALLOW",
          includes: { caps: ["CAP_SYS_ADMIN", "NET_ADMIN"] },
        },
        {
          names: ["b"],
          action: "SCMP_ACT_ALLOW",
          excludes: { caps: ["CAP_SYS_ADMIN", "CAP_BPF"] },
        },
        { name: "c", action: "SCMP_ACT_ALLOW", includes: { minKernel: "5.10" } },
        { names: ["d"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "5.10" } },
        { names: ["e"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm64"] } },
        { names: ["f"], action: "SCMP_ACT_ALLOW", excludes: { arches: ["amd64"] } },
      ],
    };
    const resolve = (capabilities: string[], kernelRelease = "5.4.0") =>
      namesOf(resolveSeccompProfile(profile, { capabilities, kernelRelease }));
    expect(resolve(["CAP_SYS_ADMIN"])).toEqual(["d"]);
    expect(resolve(["CAP_SYS_ADMIN", "CAP_NET_ADMIN"])).toEqual(["a", "d"]);
    expect(resolve([])).toEqual(["b", "d"]);
    expect(resolve([], "5.10.1")).toEqual(["b", "c"]);
    expect(resolve([], "6.1")).toEqual(["b", "c"]);
  });

  it("keeps `architectures` when there is no archMap, and rejects a bad kernel release", () => {
    const oci = resolveSeccompProfile(
      { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"] },
      { capabilities: [], kernelRelease: "6.1.0" },
    );
    expect(oci.architectures).toEqual(["SCMP_ARCH_X86_64"]);
    expect(() =>
      resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP_PROFILE, {
        capabilities: [],
        kernelRelease: "linux",
      }),
    ).toThrow('cannot read a kernel version from "linux": expected MAJOR.MINOR…');
  });
});
