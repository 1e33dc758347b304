import { z } from "zod";

/** The CNI spec version Berth speaks; Debian 12's plugins (1.1.1) support it. */
export const CNI_VERSION = "1.0.0";

const ip = z.union([z.ipv4(), z.ipv6()]);

/** A CNI 1.0.0 success result (spec "Success"), as a plugin prints it on stdout after ADD. */
export const cniResultSchema = z
  .looseObject({
    cniVersion: z.literal(CNI_VERSION),
    interfaces: z
      .array(
        z.looseObject({
          name: z.string().min(1),
          mac: z.mac().optional(),
          mtu: z.number().int().positive().optional(),
          sandbox: z.string().optional(),
        }),
      )
      .default([]),
    ips: z
      .array(
        z.looseObject({
          address: z.union([z.cidrv4(), z.cidrv6()]),
          gateway: ip.optional(),
          interface: z.number().int().nonnegative().optional(),
        }),
      )
      .default([]),
    routes: z
      .array(
        z.looseObject({
          dst: z.union([z.cidrv4(), z.cidrv6()]),
          gw: ip.optional(),
        }),
      )
      .default([]),
    dns: z
      .looseObject({
        nameservers: z.array(z.string()).optional(),
        domain: z.string().optional(),
        search: z.array(z.string()).optional(),
        options: z.array(z.string()).optional(),
      })
      .default({}),
  })
  .check((ctx) => {
    // ips[].interface indexes interfaces[]; a dangling index would make the result unusable.
    for (const [i, entry] of ctx.value.ips.entries()) {
      if (entry.interface !== undefined && entry.interface >= ctx.value.interfaces.length) {
        ctx.issues.push({
          code: "custom",
          input: entry.interface,
          path: ["ips", i, "interface"],
          message: `interface index ${entry.interface} is out of range`,
        });
      }
    }
  });

export type CniResult = z.infer<typeof cniResultSchema>;

/** A CNI error (spec "Error"), printed on stdout by a plugin that exits non-zero. */
export const cniErrorSchema = z.looseObject({
  cniVersion: z.string().optional(),
  code: z.number().int(),
  msg: z.string(),
  details: z.string().optional(),
});

export type CniError = z.infer<typeof cniErrorSchema>;

/** The reply to CNI_COMMAND=VERSION. */
export const cniVersionInfoSchema = z.looseObject({
  cniVersion: z.string(),
  supportedVersions: z.array(z.string()),
});

export type CniVersionInfo = z.infer<typeof cniVersionInfoSchema>;

/** The address of the container's interface `ifname`, as Berth reports it. */
export interface InterfaceAddress {
  ip: string;
  prefixLength: number;
  gateway: string | null;
  mac: string | null;
}

/**
 * Finds the IPv4 address assigned to the sandbox interface `ifname` (the spec links them by
 * ips[].interface); null when the result has none, e.g. for the loopback-only list.
 */
export function sandboxAddress(result: CniResult, ifname: string): InterfaceAddress | null {
  const index = result.interfaces.findIndex((i) => i.name === ifname && i.sandbox !== undefined);
  if (index < 0) return null;
  const entry = result.ips.find(
    (e) => e.interface === index && z.cidrv4().safeParse(e.address).success,
  );
  if (!entry) return null;
  const [address, prefix] = entry.address.split("/") as [string, string];
  return {
    ip: address,
    prefixLength: Number(prefix),
    gateway: entry.gateway ?? null,
    mac: result.interfaces[index]?.mac ?? null,
  };
}
