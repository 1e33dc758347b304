import { z } from "zod";
import { invalidArgument, parseFlagValue } from "./flag-value.ts";

const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Docker's smallest memory limit: below this the kernel's own overhead does not fit. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

/**
 * A size as Docker reads `-m`: a number (decimals allowed) with an optional unit b, k, m or g,
 * binary multiples, any case, optionally followed by `b` or `ib` (`256m`, `1.5G`, `512MiB`); no
 * unit means bytes.
 */
export const byteSizeSchema = z.string().transform((raw, ctx) => {
  const m = /^(\d+(?:\.\d+)?) ?(?:([kmg])(?:i?b)?|(b))?$/i.exec(raw.trim());
  if (!m) {
    ctx.addIssue({
      code: "custom",
      message: "expected a size such as 256m (a number with unit b, k, m or g)",
    });
    return z.NEVER;
  }
  const unit = (m[2] ?? m[3] ?? "b").toLowerCase();
  const bytes = Math.trunc(Number(m[1]) * UNIT_BYTES[unit]!);
  if (!Number.isSafeInteger(bytes)) {
    ctx.addIssue({ code: "custom", message: "size is too large" });
    return z.NEVER;
  }
  return bytes;
});

export const memoryLimitSchema = byteSizeSchema.refine((bytes) => bytes >= MIN_MEMORY_BYTES, {
  message: "the minimum memory limit is 6m",
});

/** `-m, --memory` in bytes. */
export function parseMemory(value: string): number {
  return parseFlagValue(memoryLimitSchema, "--memory", value);
}

/** `--memory-swap`: memory plus swap in bytes, or -1 for unlimited swap. */
export function parseMemorySwap(value: string): number {
  if (value.trim() === "-1") return -1;
  return parseFlagValue(memoryLimitSchema, "--memory-swap", value);
}

const NANOS_PER_CPU = 1_000_000_000;
const MIN_NANO_CPUS = 10_000_000;

/** `--cpus` as Docker's NanoCPUs: a decimal number of CPUs, at most 9 decimals, at least 0.01. */
export const nanoCpusSchema = z.string().transform((raw, ctx) => {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(raw.trim());
  if (!m || (m[1] === "" && !m[2])) {
    ctx.addIssue({ code: "custom", message: "expected a number of CPUs such as 0.5 or 2" });
    return z.NEVER;
  }
  const fraction = m[2] ?? "";
  if (fraction.replace(/0+$/, "").length > 9) {
    ctx.addIssue({ code: "custom", message: "too precise: use at most 9 decimals" });
    return z.NEVER;
  }
  const nanos = Number(m[1] || "0") * NANOS_PER_CPU + Number(fraction.padEnd(9, "0").slice(0, 9));
  if (nanos < MIN_NANO_CPUS) {
    ctx.addIssue({ code: "custom", message: "the minimum is 0.01 CPUs" });
    return z.NEVER;
  }
  if (!Number.isSafeInteger(nanos)) {
    ctx.addIssue({ code: "custom", message: "too many CPUs" });
    return z.NEVER;
  }
  return nanos;
});

/** `--cpus` in billionths of a CPU; `hostCpus`, when given, is the upper bound. */
export function parseCpus(value: string, hostCpus?: number): number {
  const nanos = parseFlagValue(nanoCpusSchema, "--cpus", value);
  if (hostCpus !== undefined && nanos > hostCpus * NANOS_PER_CPU) {
    throw invalidArgument("--cpus", value, `this host has only ${hostCpus} CPUs`);
  }
  return nanos;
}

/** CFS period Docker uses for --cpus, in microseconds. */
export const CPU_PERIOD_US = 100_000;

/** The CFS quota for NanoCPUs with the default period: 0.5 CPUs → 50000 µs per 100000 µs. */
export function cpuQuotaFor(nanoCpus: number): number {
  return Math.round((nanoCpus * CPU_PERIOD_US) / NANOS_PER_CPU);
}

const integerSchema = (what: string) =>
  z.string().transform((raw, ctx) => {
    if (!/^-?\d+$/.test(raw.trim())) {
      ctx.addIssue({ code: "custom", message: `expected ${what}` });
      return z.NEVER;
    }
    return Number(raw.trim());
  });

/** `--pids-limit`: a positive number of processes, or 0 / -1 for unlimited (undefined). */
export function parsePidsLimit(value: string): number | undefined {
  const n = parseFlagValue(integerSchema("an integer (-1 for unlimited)"), "--pids-limit", value);
  if (n < -1) throw invalidArgument("--pids-limit", value, "use -1 for unlimited");
  if (!Number.isSafeInteger(n)) throw invalidArgument("--pids-limit", value, "too large");
  return n <= 0 ? undefined : n;
}

/** `--cpu-shares`: the relative CPU weight (cgroup v1 shares, 2–262144; 1024 is the default). */
export function parseCpuShares(value: string): number {
  const n = parseFlagValue(integerSchema("an integer between 2 and 262144"), "--cpu-shares", value);
  if (n < 2 || n > 262144)
    throw invalidArgument("--cpu-shares", value, "expected an integer between 2 and 262144");
  return n;
}
