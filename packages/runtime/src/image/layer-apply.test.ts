import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApplyLayerOptions, applyLayer, cleanComponents } from "./layer-apply.ts";
import { buildTar, type TarHeaderInput } from "./tar-writer.ts";

/**
 * Rootless: entries are owned by the current user, and device nodes and xattrs go to a fake seam
 * (mknod makes a marker file; xattrs live in a map), so these run without CAP_MKNOD/CAP_SYS_ADMIN.
 */
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

class FakeSys {
  readonly nodes = new Map<string, { mode: number; dev: number }>();
  readonly xattrs = new Map<string, Map<string, Buffer>>();
  mknod(p: string, mode: number, dev: number) {
    fs.writeFileSync(p, "", { flag: "wx" });
    this.nodes.set(p, { mode, dev });
  }
  lsetxattr(p: string, name: string, value: Uint8Array) {
    const m = this.xattrs.get(p) ?? new Map<string, Buffer>();
    m.set(name, Buffer.from(value));
    this.xattrs.set(p, m);
  }
  lgetxattr(p: string, name: string) {
    return this.xattrs.get(p)?.get(name) ?? null;
  }
}

let tmp: string;
let root: string;
let sys: FakeSys;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-layer-"));
  root = path.join(tmp, "snap");
  fs.mkdirSync(root);
  sys = new FakeSys();
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

type E = TarHeaderInput & { body?: string };
const own = (e: E): E => ({ uid, gid, mtime: 1_600_000_000, ...e });

async function apply(entries: E[], opts: Partial<ApplyLayerOptions> = {}, dest = root) {
  const tar = buildTar(entries.map(own));
  return applyLayer(dest, [tar], { sys, ...opts });
}

function read(rel: string): string {
  return fs.readFileSync(path.join(root, rel), "utf8");
}

describe("applyLayer", () => {
  it("creates files, dirs, symlinks, hardlinks with modes and mtimes, and returns the diffID", async () => {
    const entries: E[] = [
      { name: "etc/", type: "dir", mode: 0o750 },
      { name: "etc/conf", type: "file", mode: 0o640, body: "x=1" },
      { name: "etc/alias", type: "symlink", mode: 0o777, linkname: "conf" },
      { name: "etc/hard", type: "hardlink", mode: 0o640, linkname: "etc/conf" },
    ];
    const tar = buildTar(entries.map(own));
    const r = await applyLayer(root, [zlib.gzipSync(tar)], { sys });
    expect(r.diffID).toBe(`sha256:${createHash("sha256").update(tar).digest("hex")}`);
    expect(read("etc/conf")).toBe("x=1");
    expect(fs.statSync(path.join(root, "etc")).mode & 0o7777).toBe(0o750);
    expect(fs.statSync(path.join(root, "etc")).mtimeMs).toBe(1_600_000_000_000);
    expect(fs.statSync(path.join(root, "etc/conf")).mode & 0o7777).toBe(0o640);
    expect(fs.readlinkSync(path.join(root, "etc/alias"))).toBe("conf");
    expect(fs.statSync(path.join(root, "etc/hard")).ino).toBe(
      fs.statSync(path.join(root, "etc/conf")).ino,
    );
  });

  it("turns .wh.<name> into a 0/0 character device and .wh..wh..opq into trusted.overlay.opaque", async () => {
    await apply([
      { name: "a/", type: "dir", mode: 0o755 },
      { name: "a/.wh..wh..opq", type: "file", mode: 0o644 },
      { name: "a/keep", type: "file", mode: 0o644, body: "k" },
      { name: "b/.wh.gone", type: "file", mode: 0o644 },
      { name: ".wh..wh.plnk", type: "dir", mode: 0o700 },
    ]);
    expect(sys.xattrs.get(path.join(root, "a"))?.get("trusted.overlay.opaque")?.toString()).toBe(
      "y",
    );
    expect(sys.nodes.get(path.join(root, "b/gone"))).toEqual({ mode: 0o020000, dev: 0 });
    expect(fs.existsSync(path.join(root, "b/.wh.gone"))).toBe(false);
    expect(fs.existsSync(path.join(root, ".wh..wh.plnk"))).toBe(false);
    expect(read("a/keep")).toBe("k");
  });

  it("neutralises absolute paths and .. components to land inside the snapshot (as containerd)", async () => {
    await apply([
      { name: "/abs", type: "file", mode: 0o644, body: "1" },
      { name: "../../../escape", type: "file", mode: 0o644, body: "2" },
      { name: "x/../../y/./z", type: "file", mode: 0o644, body: "3" },
    ]);
    expect(read("abs")).toBe("1");
    expect(read("escape")).toBe("2");
    expect(read("y/z")).toBe("3");
    expect(fs.existsSync(path.join(tmp, "escape"))).toBe(false);
    expect(cleanComponents("/../a/./b/../c")).toEqual(["a", "c"]);
  });

  it("follows a symlink made earlier in the layer only within the snapshot root", async () => {
    const outside = path.join(tmp, "outside");
    fs.mkdirSync(outside);
    await apply([
      { name: "evil", type: "symlink", mode: 0o777, linkname: outside },
      { name: "evil/pwned", type: "file", mode: 0o644, body: "abs" },
      { name: "rel", type: "symlink", mode: 0o777, linkname: "../../../../outside" },
      { name: "rel/pwned2", type: "file", mode: 0o644, body: "rel" },
    ]);
    expect(fs.readdirSync(outside)).toEqual([]);
    // Resolved as if the snapshot were "/": <root><outside>/pwned and <root>/outside/pwned2.
    expect(read(path.join(outside, "pwned"))).toBe("abs");
    expect(read("outside/pwned2")).toBe("rel");
  });

  it("never writes through a final-component symlink: the entry replaces the link", async () => {
    const victim = path.join(tmp, "victim");
    fs.writeFileSync(victim, "safe");
    await apply([
      { name: "f", type: "symlink", mode: 0o777, linkname: victim },
      { name: "f", type: "file", mode: 0o644, body: "overwritten?" },
    ]);
    expect(fs.readFileSync(victim, "utf8")).toBe("safe");
    expect(fs.lstatSync(path.join(root, "f")).isFile()).toBe(true);
  });

  it("keeps hardlink targets inside the tree and refuses missing ones", async () => {
    const secret = path.join(tmp, "secret");
    fs.writeFileSync(secret, "s");
    await apply([
      { name: "secret", type: "file", mode: 0o600, body: "inside" },
      { name: "h", type: "hardlink", mode: 0o600, linkname: "../secret" },
    ]);
    expect(read("h")).toBe("inside");
    expect(fs.statSync(secret).nlink).toBe(1);
    await expect(
      apply([{ name: "h2", type: "hardlink", mode: 0o600, linkname: "nowhere" }]),
    ).rejects.toThrow(/not found/);
  });

  it("drops trusted.overlay.* xattrs from the archive but keeps others", async () => {
    await apply([
      {
        name: "d/",
        type: "dir",
        mode: 0o755,
        xattrs: new Map([
          ["trusted.overlay.opaque", Buffer.from("y")],
          ["user.note", Buffer.from("hi")],
        ]),
      },
    ]);
    const x = sys.xattrs.get(path.join(root, "d"));
    expect(x?.has("trusted.overlay.opaque")).toBe(false);
    expect(x?.get("user.note")?.toString()).toBe("hi");
  });

  it("materialises a hardlink to a lower snapshot's file as a copy, and copies up lower parents", async () => {
    const lower = path.join(tmp, "lower");
    fs.mkdirSync(path.join(lower, "usr/lib"), { recursive: true });
    fs.chmodSync(path.join(lower, "usr"), 0o711);
    fs.writeFileSync(path.join(lower, "usr/lib/libc.so"), "libc");
    fs.symlinkSync("usr/lib", path.join(lower, "lib"));
    await apply(
      [
        {
          name: "usr/lib/libc-copy.so",
          type: "hardlink",
          mode: 0o644,
          linkname: "usr/lib/libc.so",
        },
        { name: "lib/added.so", type: "file", mode: 0o644, body: "new" },
      ],
      { lowerDirs: [lower] },
    );
    expect(read("usr/lib/libc-copy.so")).toBe("libc");
    expect(fs.statSync(path.join(root, "usr")).mode & 0o7777).toBe(0o711);
    // lib -> usr/lib in the lower layer is followed rather than shadowed by a new directory.
    expect(read("usr/lib/added.so")).toBe("new");
    expect(fs.existsSync(path.join(root, "lib"))).toBe(false);
    expect(fs.statSync(path.join(lower, "usr/lib/libc.so")).nlink).toBe(1);
  });

  it("does not see through a directory made opaque by a higher lower layer", async () => {
    const bottom = path.join(tmp, "bottom");
    const middle = path.join(tmp, "middle");
    fs.mkdirSync(path.join(bottom, "gone"), { recursive: true });
    fs.writeFileSync(path.join(bottom, "gone/f"), "old");
    fs.mkdirSync(path.join(middle, "gone"), { recursive: true });
    sys.lsetxattr(path.join(middle, "gone"), "trusted.overlay.opaque", Buffer.from("y"));
    await expect(
      apply([{ name: "x", type: "hardlink", mode: 0o644, linkname: "gone/f" }], {
        lowerDirs: [middle, bottom],
      }),
    ).rejects.toThrow(/not found/);
    await apply([{ name: "y", type: "hardlink", mode: 0o644, linkname: "gone/f" }], {
      lowerDirs: [bottom],
    });
    expect(read("y")).toBe("old");
  });

  it("sends devices and fifos to mknod with the right type and device number", async () => {
    await apply([
      { name: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
      { name: "dev/sda", type: "block", mode: 0o660, devmajor: 8, devminor: 0 },
      { name: "p", type: "fifo", mode: 0o600 },
    ]);
    expect(sys.nodes.get(path.join(root, "dev/null"))).toEqual({ mode: 0o020666, dev: 0x103 });
    expect(sys.nodes.get(path.join(root, "dev/sda"))).toEqual({ mode: 0o060660, dev: 0x800 });
    expect(sys.nodes.get(path.join(root, "p"))).toEqual({ mode: 0o010600, dev: 0 });
  });

  it("replaces a directory with a file and merges a directory into an existing one", async () => {
    await apply([
      { name: "d/", type: "dir", mode: 0o755 },
      { name: "d/child", type: "file", mode: 0o644, body: "c" },
      { name: "d/", type: "dir", mode: 0o700 },
      { name: "e/", type: "dir", mode: 0o755 },
      { name: "e", type: "file", mode: 0o644, body: "now a file" },
    ]);
    expect(read("d/child")).toBe("c");
    expect(fs.statSync(path.join(root, "d")).mode & 0o777).toBe(0o700);
    expect(read("e")).toBe("now a file");
  });
});
