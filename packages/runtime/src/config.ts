import { z } from "zod";

/**
 * Where the engine keeps its state and which host names it owns. Passed in by callers; the runtime
 * never reads process.env. Tests use their own roots and `berth-test-*` names so that they never
 * collide with a running Berth.
 */
export const runtimeConfigSchema = z.object({
  /** Durable state: containers, logs, images, volumes. */
  root: z.string().default("/var/lib/berth/runtime"),
  /** Volatile state: sockets, network namespace files, FIFOs. */
  runRoot: z.string().default("/run/berth/runtime"),
  /** Name of the cgroup under which every container's cgroup is created (in each hierarchy). */
  cgroupParent: z
    .string()
    .regex(/^berth[a-z0-9-]*$/)
    .default("berth"),
  /** Root of the cgroup filesystem; a scratch directory in unit tests. */
  cgroupRoot: z.string().default("/sys/fs/cgroup"),
  /** Host bridge that bridge-mode containers join, and its IPv4 subnet. */
  bridgeName: z
    .string()
    .regex(/^berth[a-z0-9-]{0,10}$/)
    .default("berth0"),
  subnet: z.string().default("10.89.0.0/16"),
  /** Directory holding Debian's CNI plugins. */
  cniPluginDir: z.string().default("/usr/lib/cni"),
  /** Log rotation: bytes per file and number of files kept per container. */
  logMaxBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  logMaxFiles: z.number().int().positive().default(3),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type RuntimeConfigInput = z.input<typeof runtimeConfigSchema>;

/** Fills defaults and validates; throws a ZodError naming the bad field. */
export function resolveRuntimeConfig(input: RuntimeConfigInput = {}): RuntimeConfig {
  return runtimeConfigSchema.parse(input);
}
