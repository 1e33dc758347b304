import { z } from "zod";

/**
 * Two JSON forms of a seccomp policy:
 * - the OCI runtime spec's `linux.seccomp` (config-linux.md), which the engine executes: a default
 *   action and rules that already apply to this container;
 * - Docker's profile format (`--security-opt seccomp=profile.json`), a superset whose rules may be
 *   conditional on the container's capabilities, the architecture and the kernel version
 *   (`includes` / `excludes`). resolve-profile.ts turns the second into the first.
 */

export const seccompActionSchema = z.enum([
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
]);
export type SeccompAction = z.infer<typeof seccompActionSchema>;

export const seccompOperatorSchema = z.enum([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);
export type SeccompOperator = z.infer<typeof seccompOperatorSchema>;

export const seccompArchSchema = z.enum([
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
]);
export type SeccompArch = z.infer<typeof seccompArchSchema>;

/** A syscall argument value: an unsigned 64-bit integer. JSON numbers above 2^53 lose precision. */
const argValueSchema = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.bigint().nonnegative().max(0xffff_ffff_ffff_ffffn),
]);

export const seccompArgSchema = z.object({
  index: z.number().int().min(0).max(5),
  value: argValueSchema,
  /** For SCMP_CMP_MASKED_EQ `value` is the mask and `valueTwo` the expected result (default 0). */
  valueTwo: argValueSchema.optional(),
  op: seccompOperatorSchema,
});
export type SeccompArg = z.infer<typeof seccompArgSchema>;

const errnoRetSchema = z.number().int().min(0).max(0xffff);

export const ociSeccompSyscallSchema = z.object({
  names: z.array(z.string().min(1)).min(1),
  action: seccompActionSchema,
  errnoRet: errnoRetSchema.optional(),
  args: z.array(seccompArgSchema).optional(),
});
export type OciSeccompSyscall = z.infer<typeof ociSeccompSyscallSchema>;

/** The OCI runtime spec's `linux.seccomp` object. */
export const ociSeccompSchema = z.object({
  defaultAction: seccompActionSchema,
  defaultErrnoRet: errnoRetSchema.optional(),
  architectures: z.array(seccompArchSchema).optional(),
  flags: z.array(z.string()).optional(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z.array(ociSeccompSyscallSchema).optional(),
});
export type OciSeccomp = z.infer<typeof ociSeccompSchema>;

/** Docker's conditions on a rule: arches use Go's names (amd64, x32, x86, arm64, …). */
export const profileFilterSchema = z.object({
  arches: z.array(z.string()).optional(),
  caps: z.array(z.string()).optional(),
  minKernel: z
    .string()
    .regex(/^\d+\.\d+$/, "minKernel must look like 4.8")
    .optional(),
});
export type ProfileFilter = z.infer<typeof profileFilterSchema>;

export const profileSyscallSchema = z
  .object({
    /** The old single-name form; Docker still reads it. */
    name: z.string().min(1).optional(),
    names: z.array(z.string().min(1)).optional(),
    action: seccompActionSchema,
    errnoRet: errnoRetSchema.optional(),
    args: z.array(seccompArgSchema).nullable().optional(),
    comment: z.string().optional(),
    includes: profileFilterSchema.optional(),
    excludes: profileFilterSchema.optional(),
  })
  .refine((s) => (s.name === undefined) !== (s.names === undefined), {
    message: "a syscall rule needs exactly one of name or names",
  });
export type ProfileSyscall = z.infer<typeof profileSyscallSchema>;

export const archMapEntrySchema = z.object({
  architecture: seccompArchSchema,
  subArchitectures: z.array(seccompArchSchema).nullable(),
});

/** Docker's seccomp profile format. */
export const seccompProfileSchema = z
  .object({
    defaultAction: seccompActionSchema,
    defaultErrnoRet: errnoRetSchema.optional(),
    architectures: z.array(seccompArchSchema).optional(),
    archMap: z.array(archMapEntrySchema).optional(),
    flags: z.array(z.string()).optional(),
    listenerPath: z.string().optional(),
    listenerMetadata: z.string().optional(),
    syscalls: z.array(profileSyscallSchema).nullable().optional(),
  })
  .refine((p) => !(p.architectures?.length && p.archMap?.length), {
    message: "use either architectures or archMap in a seccomp profile, not both",
  });
export type SeccompProfile = z.infer<typeof seccompProfileSchema>;
