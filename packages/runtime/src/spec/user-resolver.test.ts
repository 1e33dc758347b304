import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { readRootfsFile, resolveInRootfs } from "./rootfs-path.ts";
import { resolveUser } from "./user-resolver.ts";

const PASSWD = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
broken line
nohome:x:1001:1001::
`;
const GROUP = `root:x:0:
wheel:x:10:root,app
app:x:1000:
staff:x:50:app, daemon
audio:x:29:daemon
`;

let base: string;
const rootfs = () => join(base, "rootfs");

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "berth-test-user-"));
  mkdirSync(join(rootfs(), "etc"), { recursive: true });
  writeFileSync(join(rootfs(), "etc/passwd"), PASSWD);
  writeFileSync(join(rootfs(), "etc/group"), GROUP);
  // Hostile rootfses: evil/etc points at a host path holding a real passwd (absolute link);
  // evil2/etc/passwd climbs out with ../ .
  mkdirSync(join(base, "evil"), { recursive: true });
  symlinkSync(join(rootfs(), "etc"), join(base, "evil", "etc"));
  mkdirSync(join(base, "evil2", "etc"), { recursive: true });
  symlinkSync("../../../../../../outside-passwd", join(base, "evil2", "etc", "passwd"));
  writeFileSync(join(base, "outside-passwd"), "escaped:x:4242:4242::/:/bin/sh\n");
  mkdirSync(join(base, "empty"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("resolveUser", () => {
  it("defaults to root with root's home", () => {
    expect(resolveUser(rootfs())).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [10],
      home: "/root",
      name: "root",
    });
  });

  it("resolves a name to its uid, primary gid, home and member groups", () => {
    expect(resolveUser(rootfs(), { user: { name: "app" } })).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 50],
      home: "/home/app",
      name: "app",
    });
  });

  it("resolves a numeric uid through passwd when it is there", () => {
    expect(resolveUser(rootfs(), { user: { id: 1 } })).toMatchObject({
      uid: 1,
      gid: 1,
      home: "/usr/sbin",
      name: "daemon",
    });
    expect(resolveUser(rootfs(), { user: { id: 1 } }).additionalGids).toEqual([50, 29]);
  });

  it("accepts a uid without an entry: gid 0, home /", () => {
    expect(resolveUser(rootfs(), { user: { id: 4242 } })).toEqual({
      uid: 4242,
      gid: 0,
      additionalGids: [],
      home: "/",
    });
    expect(resolveUser(rootfs(), { user: { id: 1001 } }).home).toBe("/");
  });

  it("takes an explicit group by name or number, and then no supplementary groups", () => {
    expect(
      resolveUser(rootfs(), { user: { name: "app" }, group: { name: "staff" } }),
    ).toMatchObject({
      uid: 1000,
      gid: 50,
      additionalGids: [],
    });
    expect(resolveUser(rootfs(), { user: { id: 4242 }, group: { id: 7 } })).toMatchObject({
      uid: 4242,
      gid: 7,
    });
  });

  it("fails clearly for unknown names", () => {
    expectInvalid(
      () => resolveUser(rootfs(), { user: { name: "nobody" } }),
      "unable to find user nobody: no matching entry in the container's /etc/passwd",
    );
    expectInvalid(
      () => resolveUser(rootfs(), { user: { name: "app" }, group: { name: "docker" } }),
      "unable to find group docker: no matching entry in the container's /etc/group",
    );
    expectInvalid(
      () => resolveUser(join(base, "empty"), { user: { name: "app" } }),
      "unable to find user app: no matching entry in the container's /etc/passwd",
    );
  });

  it("works without /etc files for numeric users", () => {
    expect(resolveUser(join(base, "empty"), { user: { id: 5 }, group: { id: 6 } })).toEqual({
      uid: 5,
      gid: 6,
      additionalGids: [],
      home: "/",
    });
  });

  it("never reads files outside the rootfs through symlinks", () => {
    // evil/etc -> <host path of a real /etc> is resolved inside evil, where it does not exist.
    expect(resolveInRootfs(join(base, "evil"), "/etc/passwd")).toBe(
      join(base, "evil", rootfs(), "etc", "passwd"),
    );
    expect(readRootfsFile(join(base, "evil"), "/etc/passwd")).toBeUndefined();
    expectInvalid(
      () => resolveUser(join(base, "evil"), { user: { name: "root" } }),
      "unable to find user root: no matching entry in the container's /etc/passwd",
    );
    // evil2/etc/passwd -> ../../../../outside-passwd is clamped at the rootfs's /.
    expect(resolveInRootfs(join(base, "evil2"), "/etc/passwd")).toBe(
      join(base, "evil2", "outside-passwd"),
    );
    expectInvalid(
      () => resolveUser(join(base, "evil2"), { user: { name: "escaped" } }),
      "unable to find user escaped: no matching entry in the container's /etc/passwd",
    );
  });
});

describe("resolveInRootfs", () => {
  it("follows links inside the rootfs and clamps .. at its root", () => {
    const root = join(base, "links");
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    symlinkSync("usr/lib", join(root, "lib"));
    symlinkSync("/lib/../../../usr", join(root, "u"));
    symlinkSync("loop2", join(root, "loop1"));
    symlinkSync("loop1", join(root, "loop2"));
    expect(resolveInRootfs(root, "/lib/x")).toBe(join(root, "usr/lib/x"));
    expect(resolveInRootfs(root, "/u/lib")).toBe(join(root, "usr/lib"));
    expect(resolveInRootfs(root, "/../../etc")).toBe(join(root, "etc"));
    symlinkSync("/self", join(root, "self"));
    expectInvalid(
      () => resolveInRootfs(root, "/loop1"),
      `too many symlinks resolving /loop1 in ${root}`,
    );
    expectInvalid(
      () => resolveInRootfs(root, "/self/x"),
      `too many symlinks resolving /self/x in ${root}`,
    );
  });

  it("refuses to read anything but a regular file", () => {
    expectInvalid(
      () => readRootfsFile(rootfs(), "/etc"),
      `/etc in ${rootfs()} is not a regular file`,
    );
  });
});

describe("resolveUser in an image's layers", () => {
  /** Layer snapshots, topmost first, each a map of path → content ("dir" for a directory). */
  function layers(name: string, ...trees: Record<string, string>[]): string[] {
    return trees.map((tree, i) => {
      const dir = join(base, name, `layer${i}`);
      mkdirSync(dir, { recursive: true });
      for (const [path, body] of Object.entries(tree)) {
        if (body === "dir") mkdirSync(join(dir, path), { recursive: true });
        else {
          mkdirSync(join(dir, path, ".."), { recursive: true });
          writeFileSync(join(dir, path), body);
        }
      }
      return dir;
    });
  }
  const none = () => false;

  it("reads /etc/passwd and /etc/group from the topmost layer that has each", () => {
    const lowerDirs = layers(
      "stacked",
      { "etc/passwd": "web:x:33:33::/var/www:/bin/sh\n" },
      { "usr/bin/tool": "" },
      { "etc/passwd": "web:x:99:99::/old:/bin/sh\n", "etc/group": "www:x:33:web\n" },
    );
    expect(resolveUser({ lowerDirs, isOpaque: none }, { user: { name: "web" } })).toEqual({
      uid: 33,
      gid: 33,
      additionalGids: [33],
      home: "/var/www",
      name: "web",
    });
  });

  it("an opaque /etc or a file in the place of /etc in a higher layer hides the lower passwd", () => {
    const lowerDirs = layers(
      "opaque",
      { etc: "dir" },
      { "etc/passwd": "web:x:33:33::/var/www:/bin/sh\n" },
    );
    const top = lowerDirs[0];
    const opaque = { lowerDirs, isOpaque: (dir: string) => dir === join(top!, "etc") };
    expectInvalid(
      () => resolveUser(opaque, { user: { name: "web" } }),
      "unable to find user web: no matching entry in the container's /etc/passwd",
    );
    // The same layers without the opaque mark: the lower passwd shows through.
    expect(resolveUser({ lowerDirs, isOpaque: none }, { user: { name: "web" } }).uid).toBe(33);

    const shadowed = layers(
      "file-etc",
      { etc: "not a directory" },
      {
        "etc/passwd": "web:x:33:33::/var/www:/bin/sh\n",
      },
    );
    expectInvalid(
      () => resolveUser({ lowerDirs: shadowed, isOpaque: none }, { user: { name: "web" } }),
      "unable to find user web: no matching entry in the container's /etc/passwd",
    );
  });
});
