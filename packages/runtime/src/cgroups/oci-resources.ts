import type { OciResources } from "../spec/oci-schema.ts";
import type { CgroupResources } from "./resources.ts";

type OciDeviceRule = NonNullable<OciResources["devices"]>[number];

/**
 * The v1 allow-list strings ("c 1:3 rwm") of OCI device rules that start by denying everything,
 * as Docker's do. Later deny rules only narrow earlier allows; an allow-list cannot express that,
 * so a deny after the first one must name something no earlier allow covers (Docker's c 10:229).
 */
export function deviceAllowList(rules: readonly OciDeviceRule[]): string[] {
  const [first, ...rest] = rules;
  if (!first || first.allow || (first.type ?? "a") !== "a") {
    throw new Error("device rules must start with a deny of every device");
  }
  const num = (n: number | undefined) => (n === undefined || n < 0 ? "*" : String(n));
  return rest
    .filter((r) => r.allow)
    .map((r) => `${r.type ?? "a"} ${num(r.major)}:${num(r.minor)} ${r.access ?? "rwm"}`);
}

/** linux.resources of a config.json as the driver's resources (quota/period → CPUs). */
export function cgroupResourcesFromOci(r: OciResources = {}): CgroupResources {
  const out: CgroupResources = {};
  if (r.memory?.limit !== undefined && r.memory.limit >= 0) out.memoryBytes = r.memory.limit;
  if (r.memory?.reservation !== undefined && r.memory.reservation >= 0) {
    out.memoryReservationBytes = r.memory.reservation;
  }
  if (r.cpu?.quota !== undefined && r.cpu.quota > 0) {
    out.cpus = r.cpu.quota / (r.cpu.period ?? 100_000);
  }
  if (r.cpu?.shares !== undefined) out.cpuShares = r.cpu.shares;
  if (r.pids?.limit !== undefined && r.pids.limit > 0) out.pidsLimit = r.pids.limit;
  if (r.devices) out.allowedDevices = deviceAllowList(r.devices);
  return out;
}
