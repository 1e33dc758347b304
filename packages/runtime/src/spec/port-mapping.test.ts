import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parsePortMapping } from "./port-mapping.ts";

describe("parsePortMapping (-p, --publish)", () => {
  it.each([
    ["8080:80", { hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    ["8080:80/tcp", { hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    ["53:53/UDP", { hostPort: 53, containerPort: 53, protocol: "udp" }],
    [
      "127.0.0.1:8080:80",
      { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" },
    ],
    ["[::1]:8080:80/udp", { hostIp: "::1", hostPort: 8080, containerPort: 80, protocol: "udp" }],
  ])("%s", (text, mapping) => {
    expect(parsePortMapping(text)).toEqual(mapping);
  });

  it.each([
    ["80", "expected HOSTPORT:CTRPORT[/tcp|udp] or IP:HOSTPORT:CTRPORT[/tcp|udp]"],
    ["1:2:3:4", "expected HOSTPORT:CTRPORT[/tcp|udp] or IP:HOSTPORT:CTRPORT[/tcp|udp]"],
    ["8080:80/sctp", 'unknown protocol "sctp": use tcp or udp'],
    ["http:80", '"http" is not a port number'],
    ["0:80", "port 0 is outside 1-65535"],
    ["8080:65536", "port 65536 is outside 1-65535"],
    [":80", "the host port is required"],
    ["127.0.0.1::80", "the host port is required"],
    ["8000-8010:80", "port ranges are not supported"],
    ["localhost:8080:80", '"localhost" is not an IP address'],
    ["[127.0.0.1]:8080:80", '"127.0.0.1" is not an IPv6 address'],
    ["[::1:8080:80", "expected HOSTPORT:CTRPORT[/tcp|udp] or IP:HOSTPORT:CTRPORT[/tcp|udp]"],
  ])("rejects %j", (text, why) => {
    expectInvalid(() => parsePortMapping(text), `invalid argument "${text}" for --publish: ${why}`);
  });
});
