import { z } from "zod";
import { RuntimeError } from "../errors.ts";

/** Docker's floor for `-m`: below this a container cannot even start its init. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** CFS period used for `--cpus`, as Docker does. */
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses CFS quotas under 1 ms, so `--cpus` starts at 0.01. */
export const MIN_CPUS = 0.01;
/** v1's cpu.shares default and range. */
export const DEFAULT_CPU_SHARES = 1024;
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262_144;

/**
 * Docker's default device allow-list (moby oci/defaults.go, without tun) minus `b *:* m`: mknod of
 * character devices, and read/write/mknod of the harmless ones a process expects in /dev. Leaving
 * out block devices makes `mknod /dev/sda b 8 0` fail in a container even with CAP_MKNOD (the
 * default seccomp profile allows mknod). Must equal spec/docker-defaults.ts defaultDeviceRules().
 */
export const DEFAULT_ALLOWED_DEVICES: readonly string[] = [
  "c *:* m",
  "c 1:3 rwm", // null
  "c 1:5 rwm", // zero
  "c 1:7 rwm", // full
  "c 1:8 rwm", // random
  "c 1:9 rwm", // urandom
  "c 5:0 rwm", // tty
  "c 5:1 rwm", // console
  "c 5:2 rwm", // ptmx
  "c 136:* rwm", // pts
];

/** A limit that can also be lifted again ("max") by update(). */
type Limit = number | "max";

/** The resource limits of one container's group. Omitted fields: kernel default on create, unchanged on update. */
export interface CgroupResources {
  /** Hard memory limit in bytes; swap cannot extend it. */
  memoryBytes?: Limit;
  /** Soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low); at most memoryBytes. */
  memoryReservationBytes?: Limit;
  /** CPU quota in CPUs, `--cpus 0.5` = half of one CPU per 100 ms period. */
  cpus?: Limit;
  /** Relative CPU weight in v1 shares (2–262144, default 1024); converted to cpu.weight on v2. */
  cpuShares?: number;
  /** Maximum number of processes (and threads). */
  pidsLimit?: Limit;
  /** v1 devices cgroup allow-list, "type major:minor access"; default DEFAULT_ALLOWED_DEVICES. */
  allowedDevices?: readonly string[];
}

const DEVICE_RULE = /^[abc] (\*|\d+):(\*|\d+) [rwm]{1,3}$/;

function limit(inner: z.ZodNumber) {
  return z.union([inner, z.literal("max")], { error: 'must be a number or "max"' }).optional();
}

const schemas = new Map<number, ReturnType<typeof buildResourcesSchema>>();

/** Named checks for resource input; hostCpus is the ceiling for `cpus`. Built once per ceiling. */
export function cgroupResourcesSchema(hostCpus: number) {
  let schema = schemas.get(hostCpus);
  if (!schema) {
    schema = buildResourcesSchema(hostCpus);
    schemas.set(hostCpus, schema);
  }
  return schema;
}

function buildResourcesSchema(hostCpus: number) {
  return z
    .strictObject({
      memoryBytes: limit(
        z
          .number()
          .refine(Number.isInteger, "must be a whole number of bytes")
          .min(MIN_MEMORY_BYTES, `must be at least 6 MiB (${MIN_MEMORY_BYTES} bytes)`)
          .max(Number.MAX_SAFE_INTEGER),
      ),
      memoryReservationBytes: limit(
        z
          .number()
          .refine(Number.isInteger, "must be a whole number of bytes")
          .min(0)
          .max(Number.MAX_SAFE_INTEGER),
      ),
      cpus: limit(
        z
          .number()
          .min(MIN_CPUS, `must be at least ${MIN_CPUS}`)
          .max(hostCpus, `must be at most ${hostCpus} (the host's CPUs)`),
      ),
      cpuShares: z
        .number()
        .int()
        .min(MIN_CPU_SHARES, `must be between ${MIN_CPU_SHARES} and ${MAX_CPU_SHARES}`)
        .max(MAX_CPU_SHARES, `must be between ${MIN_CPU_SHARES} and ${MAX_CPU_SHARES}`)
        .optional(),
      pidsLimit: limit(
        z.number().refine(Number.isInteger, "must be a whole number").min(1, "must be at least 1"),
      ),
      allowedDevices: z
        .array(z.string().regex(DEVICE_RULE, 'must look like "c 1:3 rwm"'))
        .readonly()
        .optional(),
    })
    .refine(
      (r) =>
        typeof r.memoryBytes !== "number" ||
        typeof r.memoryReservationBytes !== "number" ||
        r.memoryReservationBytes <= r.memoryBytes,
      { message: "must not exceed memoryBytes", path: ["memoryReservationBytes"] },
    );
}

/** Validates resource input; throws RuntimeError INVALID_ARGUMENT naming the field. Changes nothing. */
export function parseCgroupResources(input: unknown, hostCpus: number): CgroupResources {
  const result = cgroupResourcesSchema(hostCpus).safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || "resources";
  const got =
    issue && issue.path.length > 0
      ? issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k], input)
      : undefined;
  throw new RuntimeError(
    "INVALID_ARGUMENT",
    `invalid cgroup resources: ${field} ${issue?.message ?? "is invalid"}${got === undefined ? "" : `, got ${JSON.stringify(got)}`}`,
    { field, issues: result.error.issues },
  );
}

/** CFS quota in µs for a `--cpus` value, or "max". */
export function cpuQuotaUs(cpus: Limit): number | "max" {
  return cpus === "max" ? "max" : Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
}

/** runc's conversion from v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]. */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}

/** One write to an interface file; `controller` picks the v1 hierarchy (and must be enabled on v2). */
export interface CgroupWrite {
  controller: "memory" | "cpu" | "pids" | "devices";
  file: string;
  value: string;
}

export interface V1WriteOptions {
  /** The group's memory.limit_in_bytes now (null = unlimited), to order the memsw writes. */
  currentMemoryLimit: number | null;
  /** Whether memory.memsw.limit_in_bytes exists (swap accounting on). */
  hasMemsw: boolean;
  /** Apply the device allow-list (on create only). */
  includeDevices: boolean;
}

/** The v1 writes for a set of resources, in an order the kernel accepts. */
export function v1ResourceWrites(r: CgroupResources, options: V1WriteOptions): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (options.includeDevices) {
    writes.push({ controller: "devices", file: "devices.deny", value: "a" });
    for (const rule of r.allowedDevices ?? DEFAULT_ALLOWED_DEVICES) {
      writes.push({ controller: "devices", file: "devices.allow", value: rule });
    }
  }
  if (r.memoryBytes !== undefined) {
    const value = r.memoryBytes === "max" ? "-1" : String(r.memoryBytes);
    const limitWrite: CgroupWrite = { controller: "memory", file: "memory.limit_in_bytes", value };
    if (!options.hasMemsw) {
      writes.push(limitWrite);
    } else {
      // The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every step, so
      // raise memsw first when growing and lower the limit first when shrinking (as runc does).
      const swapWrite: CgroupWrite = {
        controller: "memory",
        file: "memory.memsw.limit_in_bytes",
        value,
      };
      const growing =
        r.memoryBytes === "max" ||
        (options.currentMemoryLimit !== null && r.memoryBytes >= options.currentMemoryLimit);
      writes.push(...(growing ? [swapWrite, limitWrite] : [limitWrite, swapWrite]));
    }
  }
  if (r.memoryReservationBytes !== undefined) {
    const value = r.memoryReservationBytes === "max" ? "-1" : String(r.memoryReservationBytes);
    writes.push({ controller: "memory", file: "memory.soft_limit_in_bytes", value });
  }
  if (r.cpus !== undefined) {
    const quota = cpuQuotaUs(r.cpus);
    writes.push({ controller: "cpu", file: "cpu.cfs_period_us", value: String(CPU_PERIOD_US) });
    writes.push({
      controller: "cpu",
      file: "cpu.cfs_quota_us",
      value: quota === "max" ? "-1" : String(quota),
    });
  }
  if (r.cpuShares !== undefined) {
    writes.push({ controller: "cpu", file: "cpu.shares", value: String(r.cpuShares) });
  }
  if (r.pidsLimit !== undefined) {
    writes.push({ controller: "pids", file: "pids.max", value: String(r.pidsLimit) });
  }
  return writes;
}

export interface V2WriteOptions {
  /** Whether memory.swap.max exists (swap accounting on). */
  hasSwapMax: boolean;
}

/**
 * The v2 writes for a set of resources. There is no devices controller in v2 (it is an eBPF
 * program attached to the group); see cgroup-v2-driver.ts for what protects devices there.
 */
export function v2ResourceWrites(r: CgroupResources, options: V2WriteOptions): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (r.memoryBytes !== undefined) {
    writes.push({ controller: "memory", file: "memory.max", value: String(r.memoryBytes) });
    if (options.hasSwapMax) {
      // v2 accounts swap separately from memory.max: forbid it so swap cannot extend the limit.
      const swap = r.memoryBytes === "max" ? "max" : "0";
      writes.push({ controller: "memory", file: "memory.swap.max", value: swap });
    }
  }
  if (r.memoryReservationBytes !== undefined) {
    const value = r.memoryReservationBytes === "max" ? "0" : String(r.memoryReservationBytes);
    writes.push({ controller: "memory", file: "memory.low", value });
  }
  if (r.cpus !== undefined) {
    writes.push({
      controller: "cpu",
      file: "cpu.max",
      value: `${cpuQuotaUs(r.cpus)} ${CPU_PERIOD_US}`,
    });
  }
  if (r.cpuShares !== undefined) {
    writes.push({
      controller: "cpu",
      file: "cpu.weight",
      value: String(cpuSharesToWeight(r.cpuShares)),
    });
  }
  if (r.pidsLimit !== undefined) {
    writes.push({ controller: "pids", file: "pids.max", value: String(r.pidsLimit) });
  }
  return writes;
}
