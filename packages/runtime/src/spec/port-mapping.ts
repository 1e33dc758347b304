import { isIP } from "node:net";
import { z } from "zod";
import { parseFlagValue } from "./flag-value.ts";

export const portMappingSchema = z.object({
  /** Host address to listen on; absent means every address. */
  hostIp: z.string().optional(),
  hostPort: z.number().int().min(1).max(65535),
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp"]),
});
export type PortMapping = z.infer<typeof portMappingSchema>;

const USAGE = "expected HOSTPORT:CTRPORT[/tcp|udp] or IP:HOSTPORT:CTRPORT[/tcp|udp]";

const portMappingStringSchema = z.string().transform((raw, ctx): PortMapping => {
  const fail = (message: string) => {
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  let rest = raw.trim();
  let protocol: "tcp" | "udp" = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto !== "tcp" && proto !== "udp")
      return fail(`unknown protocol "${proto}": use tcp or udp`);
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  if (rest.startsWith("[")) {
    // [IPv6]:HOSTPORT:CTRPORT
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") return fail(USAGE);
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
    if (isIP(hostIp) !== 6) return fail(`"${hostIp}" is not an IPv6 address`);
  }
  const parts = rest.split(":");
  if (parts.length === 3 && hostIp === undefined) {
    hostIp = parts.shift()!;
    if (isIP(hostIp) !== 4) return fail(`"${hostIp}" is not an IP address`);
  }
  if (parts.length !== 2) return fail(USAGE);
  const [host, container] = parts as [string, string];
  if (host === "") return fail("the host port is required");
  const hostPort = port(host);
  const containerPort = port(container);
  if (typeof hostPort === "string") return fail(hostPort);
  if (typeof containerPort === "string") return fail(containerPort);
  return { ...(hostIp ? { hostIp } : {}), hostPort, containerPort, protocol };
});

function port(text: string): number | string {
  if (/^\d+-\d+$/.test(text)) return "port ranges are not supported";
  if (!/^\d+$/.test(text)) return `"${text}" is not a port number`;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : `port ${text} is outside 1-65535`;
}

/** `-p, --publish`: `HOSTPORT:CTRPORT`, `IP:HOSTPORT:CTRPORT`, `[IPv6]:HOSTPORT:CTRPORT`, `/udp`. */
export function parsePortMapping(value: string): PortMapping {
  return parseFlagValue(portMappingStringSchema, "--publish", value);
}
