import { z } from "zod";
import { CliUsageError } from "./cli-error.ts";

/** The CLI's whole configuration, read once from the environment and validated here. */
const envSchema = z.object({
  BERTH_HOME: z.string().min(1).optional(),
  /** Use this Postgres instead of starting the managed one. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must start with postgres:// or postgresql://")
    .optional(),
  BERTH_DATA_DIR: z
    .string()
    .startsWith("/", "BERTH_DATA_DIR must be absolute")
    .default("/var/lib/berth"),
  BERTH_RUN_DIR: z.string().startsWith("/", "BERTH_RUN_DIR must be absolute").default("/run/berth"),
  BERTH_LOG_DIR: z
    .string()
    .startsWith("/", "BERTH_LOG_DIR must be absolute")
    .default("/var/log/berth"),
  BERTH_PG_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
  /** The cgroup under which containers' cgroups are made; tests use berth-test-<pid>. */
  BERTH_CGROUP_PARENT: z
    .string()
    .regex(/^berth[a-z0-9-]*$/, "BERTH_CGROUP_PARENT must match berth[a-z0-9-]*")
    .optional(),
  /** The host bridge that bridge-mode containers join; tests use berth-t<N> (at most 15 chars). */
  BERTH_BRIDGE: z
    .string()
    .regex(/^berth[a-z0-9-]{0,10}$/, "BERTH_BRIDGE must match berth[a-z0-9-]{0,10}")
    .default("berth0"),
  /** The bridge's IPv4 subnet (host-local IPAM hands out addresses from it). */
  BERTH_SUBNET: z
    .string()
    .regex(
      /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/,
      "BERTH_SUBNET must be an IPv4 CIDR such as 10.89.0.0/16",
    )
    .default("10.89.0.0/16"),
  /**
   * Base images `berth up` bootstraps when missing, space-separated (busybox, debian:<suite>);
   * empty for none.
   */
  BERTH_BASE_IMAGES: z
    .string()
    .default("busybox debian:bookworm")
    .transform((v) => v.split(/\s+/).filter((n) => n !== ""))
    .refine(
      (names) => names.every((n) => /^(busybox|debian(:[a-z]+)?)$/.test(n)),
      "BERTH_BASE_IMAGES lists busybox and debian:<suite> images, space-separated",
    ),
});

export type CliEnv = z.infer<typeof envSchema>;

/** Parses the environment; a bad value stops the CLI with the variable's name. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): CliEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliUsageError(
      `invalid environment variable ${issue?.path.join(".")}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
