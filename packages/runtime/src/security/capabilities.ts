import { RuntimeError } from "../errors.ts";

/**
 * Linux capabilities, numbered as in include/uapi/linux/capability.h. The index in this array is
 * the capability's bit number; CAP_CHECKPOINT_RESTORE (40) is the last one the kernel defines.
 */
export const CAPABILITY_NAMES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
] as const;

export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/** Highest capability number this table knows (CAP_LAST_CAP of the kernel headers it follows). */
export const CAP_LAST_CAP = CAPABILITY_NAMES.length - 1;

const NUMBER_BY_NAME: ReadonlyMap<string, number> = new Map(
  CAPABILITY_NAMES.map((name, index) => [name, index]),
);

/**
 * Docker's default set (moby's caps.DefaultCapabilities), in Docker's order. Its mask is
 * 0x00000000a80425fb, which is what `CapEff` shows in /proc/self/status inside a container.
 */
export const DOCKER_DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Bit number of a capability given as `CAP_X` or `x` (any case); undefined when unknown. */
export function capabilityNumber(name: string): number | undefined {
  return NUMBER_BY_NAME.get(canonicalCapabilityName(name));
}

/** Name of a capability number, or undefined outside 0..CAP_LAST_CAP. */
export function capabilityName(index: number): CapabilityName | undefined {
  return CAPABILITY_NAMES[index];
}

function canonicalCapabilityName(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/** `CAP_X` for a known capability given with or without the prefix, in any case; throws otherwise. */
export function normalizeCapabilityName(name: string): CapabilityName {
  const canonical = canonicalCapabilityName(name);
  if (!NUMBER_BY_NAME.has(canonical)) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `unknown capability "${name}": expected a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL`,
      { capability: name },
    );
  }
  return canonical as CapabilityName;
}

/** The 64-bit mask of a set of capabilities, bit N for capability N (as /proc shows CapEff). */
export function capabilityMask(names: Iterable<string>): bigint {
  let mask = 0n;
  for (const name of names) {
    mask |= 1n << BigInt(capabilityNumber(normalizeCapabilityName(name))!);
  }
  return mask;
}

/** The capability names set in a mask, in bit order; bits above CAP_LAST_CAP are rejected. */
export function capabilitiesFromMask(mask: bigint): CapabilityName[] {
  if (mask < 0n || mask >> BigInt(CAP_LAST_CAP + 1) !== 0n) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `capability mask 0x${mask.toString(16)} has bits outside 0..${CAP_LAST_CAP}`,
    );
  }
  return CAPABILITY_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * Applies `--cap-add` / `--cap-drop` to a base set the way Docker does (moby's TweakCapabilities):
 * `--cap-add ALL` gives every capability except those dropped; `--cap-drop ALL` keeps only those
 * added; otherwise the drops are removed from the base and the adds appended, so a capability both
 * added and dropped ends up present. Names may omit `CAP_` and are case-insensitive; unknown names
 * throw INVALID_ARGUMENT. The result is sorted by capability number, without duplicates.
 */
export function resolveCapabilities(
  options: { add?: readonly string[]; drop?: readonly string[] } = {},
  base: readonly string[] = DOCKER_DEFAULT_CAPABILITIES,
): CapabilityName[] {
  const adds = normalizeList(options.add ?? []);
  const drops = normalizeList(options.drop ?? []);
  let result: string[];
  if (adds.includes("ALL")) {
    result = CAPABILITY_NAMES.filter((c) => !drops.includes(c));
  } else if (drops.includes("ALL")) {
    result = adds;
  } else {
    result = [...base.map(normalizeCapabilityName).filter((c) => !drops.includes(c)), ...adds];
  }
  return sortCapabilities(result);
}

function normalizeList(names: readonly string[]): string[] {
  return names.map((n) => (n.trim().toUpperCase() === "ALL" ? "ALL" : normalizeCapabilityName(n)));
}

/** Known capability names sorted by number, duplicates removed. */
export function sortCapabilities(names: Iterable<string>): CapabilityName[] {
  return capabilitiesFromMask(capabilityMask(names));
}

/** One of the two `struct __user_cap_data_struct` entries that capset(2) takes. */
export interface CapsetWord {
  effective: number;
  permitted: number;
  inheritable: number;
}

/** _LINUX_CAPABILITY_VERSION_3, the header version for two 32-bit words per set. */
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/**
 * The data array for capset(2) with _LINUX_CAPABILITY_VERSION_3: word 0 holds capabilities 0–31,
 * word 1 holds 32–63, each as an unsigned 32-bit number.
 */
export function capsetWords(sets: {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}): [CapsetWord, CapsetWord] {
  const word = (mask: bigint, shift: bigint) => Number((mask >> shift) & 0xffffffffn);
  return [
    {
      effective: word(sets.effective, 0n),
      permitted: word(sets.permitted, 0n),
      inheritable: word(sets.inheritable, 0n),
    },
    {
      effective: word(sets.effective, 32n),
      permitted: word(sets.permitted, 32n),
      inheritable: word(sets.inheritable, 32n),
    },
  ];
}
