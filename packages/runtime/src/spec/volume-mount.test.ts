import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parseVolume } from "./volume-mount.ts";

describe("parseVolume (-v, --volume)", () => {
  it.each([
    ["/srv/data:/data", { source: "/srv/data", destination: "/data", readonly: false }],
    ["/srv/data:/data:rw", { source: "/srv/data", destination: "/data", readonly: false }],
    [
      "/etc/app.conf:/etc/app.conf:ro",
      { source: "/etc/app.conf", destination: "/etc/app.conf", readonly: true },
    ],
    ["//srv//data/./:/data/", { source: "/srv/data", destination: "/data", readonly: false }],
    ["/:/host:ro", { source: "/", destination: "/host", readonly: true }],
    [
      "pgdata:/var/lib/pg",
      { type: "volume", source: "pgdata", destination: "/var/lib/pg", readonly: false },
    ],
    [
      "my_vol.1:/data:ro",
      { type: "volume", source: "my_vol.1", destination: "/data", readonly: true },
    ],
    ["/data", { type: "volume", source: "", destination: "/data", readonly: false }],
    ["/data/./x/", { type: "volume", source: "", destination: "/data/x", readonly: false }],
    [
      "0123456789abcdef:/d",
      { type: "volume", source: "0123456789abcdef", destination: "/d", readonly: false },
    ],
  ])("%s", (text, mount) => {
    expect(parseVolume(text)).toEqual(mount);
  });

  it.each([
    ["/a:/b:ro:z", "expected HOSTPATH:CTRPATH[:ro|rw], NAME:CTRPATH[:ro|rw] or CTRPATH"],
    [":/data", "expected HOSTPATH:CTRPATH[:ro|rw], NAME:CTRPATH[:ro|rw] or CTRPATH"],
    [
      "./data:/data",
      `"./data" is not a volume name (2 or more letters, digits, '_', '.', '-', the first a letter or digit); for a host directory give an absolute path`,
    ],
    ["data", "the container path must be an absolute path"],
    ["/", "the container path cannot be /"],
    ["/data:data", "the container path must be an absolute path"],
    ["/srv/../etc:/data", 'the host path must not contain ".."'],
    ["/srv:/data/../../etc", 'the container path must not contain ".."'],
    ["/srv:/", "the container path cannot be /"],
    ["/srv:/data:z", 'unknown mode "z": use ro or rw'],
    ["vol:/data:z", 'unknown mode "z": use ro or rw'],
    ["vol:data", "the container path must be an absolute path"],
    ["vol:/", "the container path cannot be /"],
    ...["a", "-x", "_x", ".x", "bad name", "bad*"].map((name) => [
      `${name}:/data`,
      `"${name}" is not a volume name (2 or more letters, digits, '_', '.', '-', the first a letter or digit); for a host directory give an absolute path`,
    ]),
  ])("rejects %j", (text, why) => {
    expectInvalid(() => parseVolume(text), `invalid argument "${text}" for --volume: ${why}`);
  });
});
