import { RuntimeError } from "../../errors.ts";
import { normalizeCapabilityName } from "../capabilities.ts";
import type {
  OciSeccomp,
  OciSeccompSyscall,
  ProfileFilter,
  SeccompArch,
  SeccompProfile,
} from "./profile-schema.ts";

/** What a Docker profile's `includes` / `excludes` conditions are evaluated against. */
export interface ProfileTarget {
  /** The container's bounding capability set, as Docker checks it. */
  capabilities: readonly string[];
  /** Kernel release as uname -r prints it (`6.18.44-…`); only major.minor matter. */
  kernelRelease: string;
  /** Architecture in Go's naming, as Docker's profile uses it. Only amd64 is compiled today. */
  arch?: "amd64";
}

const NATIVE_SECCOMP_ARCH: Record<string, SeccompArch> = { amd64: "SCMP_ARCH_X86_64" };

/**
 * Resolves a Docker seccomp profile for one container: rules whose `includes` are not all met, or
 * any of whose `excludes` is met, are dropped (a rule's `caps` are checked against the bounding
 * set, as moby does), and the archMap entry for the native architecture becomes `architectures`.
 * The result is the OCI `linux.seccomp` object, the form the engine compiles.
 */
export function resolveSeccompProfile(profile: SeccompProfile, target: ProfileTarget): OciSeccomp {
  const arch = target.arch ?? "amd64";
  const caps = new Set(target.capabilities.map(normalizeCapabilityName));
  const kernel = parseKernelVersion(target.kernelRelease);

  const matches = (filter: ProfileFilter | undefined, all: boolean): boolean => {
    if (!filter) return all;
    const tests: boolean[] = [];
    if (filter.arches?.length) tests.push(filter.arches.includes(arch));
    if (filter.caps?.length) {
      const present = filter.caps.map((c) => caps.has(normalizeCapabilityName(c)));
      tests.push(all ? present.every(Boolean) : present.some(Boolean));
    }
    if (filter.minKernel) tests.push(kernelAtLeast(kernel, parseKernelVersion(filter.minKernel)));
    return all ? tests.every(Boolean) : tests.some(Boolean);
  };

  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of profile.syscalls ?? []) {
    if (!matches(rule.includes, true) || matches(rule.excludes, false)) continue;
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    if (names.length === 0) continue;
    syscalls.push({
      names: [...names],
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ ...a })) } : {}),
    });
  }

  const native = NATIVE_SECCOMP_ARCH[arch];
  const mapped = profile.archMap?.find((m) => m.architecture === native);
  const architectures = mapped
    ? [mapped.architecture, ...(mapped.subArchitectures ?? [])]
    : profile.architectures;

  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures?.length ? { architectures: [...architectures] } : {}),
    ...(profile.flags?.length ? { flags: [...profile.flags] } : {}),
    ...(profile.listenerPath ? { listenerPath: profile.listenerPath } : {}),
    ...(profile.listenerMetadata ? { listenerMetadata: profile.listenerMetadata } : {}),
    syscalls,
  };
}

type KernelVersion = [major: number, minor: number];

function parseKernelVersion(release: string): KernelVersion {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `cannot read a kernel version from "${release}": expected MAJOR.MINOR…`,
    );
  }
  return [Number(m[1]), Number(m[2])];
}

function kernelAtLeast(have: KernelVersion, want: KernelVersion): boolean {
  return have[0] !== want[0] ? have[0] > want[0] : have[1] >= want[1];
}
