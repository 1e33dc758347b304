import { z } from "zod";

/** What `run`/`create` accept; validated once at the API edge. */
export const runOptionsSchema = z.strictObject({
  rootfs: z.string().startsWith("/", "rootfs must be an absolute path"),
  args: z.array(z.string()).min(1, "a command is required"),
  name: z
    .string()
    .regex(
      /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/,
      "names use a-z A-Z 0-9 _ . - and start with a letter or digit",
    )
    .optional(),
  env: z.array(z.string().regex(/^[^=]+=/, "env entries are KEY=VALUE")).default([]),
  cwd: z.string().startsWith("/").default("/"),
  uid: z.number().int().min(0).default(0),
  gid: z.number().int().min(0).default(0),
  additionalGids: z.array(z.number().int().min(0)).default([]),
  hostname: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/)
    .optional(),
  /** none | host | the path of a network namespace file made by the network code. */
  network: z
    .union([
      z.literal("none"),
      z.literal("host"),
      z.strictObject({ netnsPath: z.string().startsWith("/") }),
    ])
    .default("none"),
  mounts: z
    .array(
      z.strictObject({
        source: z.string().startsWith("/"),
        destination: z.string().startsWith("/"),
        readonly: z.boolean().default(false),
      }),
    )
    .default([]),
  memoryBytes: z.number().int().positive().optional(),
  cpus: z.number().positive().optional(),
  pidsLimit: z.number().int().positive().optional(),
  autoRemove: z.boolean().default(false),
});

export type RunOptions = z.infer<typeof runOptionsSchema>;
export type RunOptionsInput = z.input<typeof runOptionsSchema>;
