import { posix } from "node:path";
import { z } from "zod";
import { CAPABILITY_NAMES } from "../security/capabilities.ts";
import { ociSeccompSchema } from "../security/seccomp/profile-schema.ts";

/**
 * The subset of the OCI runtime spec's config.json (runtime-spec 1.2, config.md and
 * config-linux.md) that Berth's engine executes. Fields outside the subset are dropped on parse.
 * 64-bit counters are JSON numbers, so values above 2^53 lose precision, as in any JSON reader.
 */
export const OCI_VERSION = "1.2.0";

const absolutePath = z
  .string()
  .refine((p) => posix.isAbsolute(p), { message: "must be an absolute path" });
const uint32 = z.number().int().min(0).max(0xffffffff);
const uint64 = z.number().int().nonnegative();
const int64 = z.number().int();

export const capabilityNameSchema = z.enum(CAPABILITY_NAMES);

export const ociCapabilitiesSchema = z.object({
  bounding: z.array(capabilityNameSchema).optional(),
  effective: z.array(capabilityNameSchema).optional(),
  inheritable: z.array(capabilityNameSchema).optional(),
  permitted: z.array(capabilityNameSchema).optional(),
  ambient: z.array(capabilityNameSchema).optional(),
});
export type OciCapabilities = z.infer<typeof ociCapabilitiesSchema>;

export const rlimitTypeSchema = z.enum([
  "RLIMIT_AS",
  "RLIMIT_CORE",
  "RLIMIT_CPU",
  "RLIMIT_DATA",
  "RLIMIT_FSIZE",
  "RLIMIT_LOCKS",
  "RLIMIT_MEMLOCK",
  "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",
  "RLIMIT_NOFILE",
  "RLIMIT_NPROC",
  "RLIMIT_RSS",
  "RLIMIT_RTPRIO",
  "RLIMIT_RTTIME",
  "RLIMIT_SIGPENDING",
  "RLIMIT_STACK",
]);
export type RlimitType = z.infer<typeof rlimitTypeSchema>;

export const ociRlimitSchema = z
  .object({ type: rlimitTypeSchema, soft: uint64, hard: uint64 })
  .refine((r) => r.soft <= r.hard, { message: "rlimit soft value must not exceed hard value" });
export type OciRlimit = z.infer<typeof ociRlimitSchema>;

export const ociUserSchema = z.object({
  uid: uint32,
  gid: uint32,
  umask: uint32.optional(),
  additionalGids: z.array(uint32).optional(),
});
export type OciUser = z.infer<typeof ociUserSchema>;

export const ociProcessSchema = z.object({
  terminal: z.boolean().optional(),
  user: ociUserSchema,
  args: z.array(z.string()).min(1, { message: "process.args needs at least the executable" }),
  env: z
    .array(z.string().regex(/^[^=]+=/, { message: "env entries must look like KEY=value" }))
    .optional(),
  cwd: absolutePath,
  capabilities: ociCapabilitiesSchema.optional(),
  rlimits: z.array(ociRlimitSchema).optional(),
  noNewPrivileges: z.boolean().optional(),
  oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
});
export type OciProcess = z.infer<typeof ociProcessSchema>;

export const ociRootSchema = z.object({
  path: z.string().min(1),
  readonly: z.boolean().optional(),
});

export const ociMountSchema = z.object({
  destination: absolutePath,
  type: z.string().optional(),
  source: z.string().optional(),
  options: z.array(z.string()).optional(),
});
export type OciMount = z.infer<typeof ociMountSchema>;

export const namespaceTypeSchema = z.enum([
  "pid",
  "network",
  "mount",
  "ipc",
  "uts",
  "user",
  "cgroup",
  "time",
]);
export type NamespaceType = z.infer<typeof namespaceTypeSchema>;

export const ociNamespaceSchema = z.object({
  type: namespaceTypeSchema,
  /** Join this namespace (a /proc/PID/ns/* or bind-mounted nsfs file) instead of creating one. */
  path: absolutePath.optional(),
});

export const ociDeviceCgroupSchema = z.object({
  allow: z.boolean(),
  type: z.enum(["a", "b", "c"]).optional(),
  major: int64.optional(),
  minor: int64.optional(),
  access: z
    .string()
    .regex(/^[rwm]{0,3}$/)
    .optional(),
});

export const ociResourcesSchema = z.object({
  memory: z
    .object({
      /** Bytes; -1 for unlimited. */
      limit: int64.optional(),
      reservation: int64.optional(),
      /** Memory plus swap, bytes; -1 for unlimited. */
      swap: int64.optional(),
      swappiness: uint64.max(100).optional(),
      disableOOMKiller: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .object({
      shares: uint64.optional(),
      /** Microseconds of CPU time per period; -1 for unlimited. */
      quota: int64.optional(),
      period: uint64.optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
    })
    .optional(),
  pids: z.object({ limit: int64 }).optional(),
  devices: z.array(ociDeviceCgroupSchema).optional(),
});
export type OciResources = z.infer<typeof ociResourcesSchema>;

export const ociLinuxSchema = z.object({
  namespaces: z.array(ociNamespaceSchema).optional(),
  resources: ociResourcesSchema.optional(),
  cgroupsPath: z.string().optional(),
  maskedPaths: z.array(absolutePath).optional(),
  readonlyPaths: z.array(absolutePath).optional(),
  seccomp: ociSeccompSchema.optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
});
export type OciLinux = z.infer<typeof ociLinuxSchema>;

export const ociSpecSchema = z.object({
  ociVersion: z.string().regex(/^1\.\d+\.\d+(-.*)?$/, { message: "ociVersion must be 1.x.y" }),
  process: ociProcessSchema,
  root: ociRootSchema,
  hostname: z.string().optional(),
  mounts: z.array(ociMountSchema).optional(),
  linux: ociLinuxSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type OciSpec = z.infer<typeof ociSpecSchema>;
