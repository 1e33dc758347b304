import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MNT_DETACH } from "../sys/constants.ts";
import { hostSyscalls } from "../sys/syscalls-host.ts";
import { bootstrapImage } from "./bootstrap.ts";
import { ImageStore } from "./image-store.ts";
import { commitTestImage, makeTestLayer, type TestLayer } from "./test-image-layers.ts";

const sys = hostSyscalls();
let tmp: string;
let store: ImageStore;

beforeAll(() => {
  tmp = fs.mkdtempSync("/tmp/berth-test-images-");
  store = new ImageStore({ root: path.join(tmp, "root"), sys });
});
afterAll(() => {
  // Nothing may stay mounted under the test dir before it is removed.
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mnt = line.split(" ")[4];
    if (mnt?.startsWith(tmp)) sys.umount2(mnt, MNT_DETACH);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const layer = (entries: Parameters<typeof makeTestLayer>[1]) => makeTestLayer(store, entries);
const image = (tag: string, layers: TestLayer[]) =>
  commitTestImage(store, tag, layers, {
    Cmd: ["sh"],
    Env: ["PATH=/bin"],
    WorkingDir: "/srv",
    StopSignal: "SIGINT",
  });

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === "" ? n : `${rel}/${n}`;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      const xattrs = sys
        .llistxattr(p)
        .sort()
        .map((x) => `${x}=${sys.lgetxattr(p, x)?.toString("hex")}`)
        .join(",");
      const what = st.isSymbolicLink()
        ? `link:${fs.readlinkSync(p)}`
        : st.isFile()
          ? `file:${createHash("sha256").update(fs.readFileSync(p)).digest("hex").slice(0, 12)}:nlink${st.nlink}`
          : st.isCharacterDevice() || st.isBlockDevice()
            ? `dev:${st.rdev}`
            : st.isDirectory()
              ? "dir"
              : "other";
      const mtime =
        st.isDirectory() || st.isSymbolicLink() ? "" : `:t${Math.floor(st.mtimeMs / 1000)}`;
      out[r] = `${what}:${(st.mode & 0o177777).toString(8)}:${st.uid}:${st.gid}${mtime}:${xattrs}`;
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

describe("image store", () => {
  it("imports a directory and unpacks a snapshot equal to the source", async () => {
    const src = path.join(tmp, "src");
    fs.mkdirSync(path.join(src, "etc/sub"), { recursive: true });
    fs.writeFileSync(path.join(src, "etc/passwd"), "root:x:0:0::/:/bin/sh\n");
    fs.chmodSync(path.join(src, "etc/passwd"), 0o640);
    fs.chownSync(path.join(src, "etc/passwd"), 0, 42);
    fs.writeFileSync(path.join(src, "suid"), "#!/bin/sh\n");
    fs.chownSync(path.join(src, "suid"), 1000, 1000);
    fs.chmodSync(path.join(src, "suid"), 0o4755);
    fs.linkSync(path.join(src, "suid"), path.join(src, "etc/sub/hard"));
    fs.symlinkSync("../passwd", path.join(src, "etc/sub/rel"));
    fs.lchownSync(path.join(src, "etc/sub/rel"), 7, 8);
    fs.writeFileSync(path.join(src, "big"), Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    sys.lsetxattr(path.join(src, "etc/sub"), "user.berth", Buffer.from("yes"));
    sys.lsetxattr(path.join(src, "big"), "trusted.test", Buffer.from([0, 1, 2]));
    sys.mknod(path.join(src, "null"), 0o020666, (1 << 8) | 3);
    sys.mknod(path.join(src, "fifo"), 0o010600, 0);
    fs.utimesSync(path.join(src, "etc/passwd"), 1_500_000_000, 1_500_000_000);
    fs.chmodSync(path.join(src, "etc"), 0o751);
    fs.utimesSync(path.join(src, "etc/sub"), 1_400_000_000, 1_400_000_000);

    const img = await store.importDirectory(src, { tag: "test/imported", config: { Cmd: ["x"] } });
    const rootfs = await store.rootfsFor("test/imported:latest");
    expect(rootfs.lowerDirs).toHaveLength(1);
    expect(rootfs.id).toBe(img.id);
    expect(rootfs.config.Cmd).toEqual(["x"]);
    expect(tree(rootfs.lowerDirs[0]!)).toEqual(tree(src));
    expect(fs.statSync(path.join(rootfs.lowerDirs[0]!, "etc/sub")).mtimeMs).toBe(1_400_000_000_000);
    expect(fs.statSync(rootfs.lowerDirs[0]!).mode & 0o777).toBe(0o755);
    expect(store.list().find((i) => i.id === img.id)?.tags).toEqual(["test/imported:latest"]);
    expect(store.history("test/imported")[0]?.created_by).toContain("berth image import");
  });

  it("mounts a two-layer image with a whiteout and an opaque dir as overlay", async () => {
    const base = await layer([
      { name: "etc/", type: "dir", mode: 0o755 },
      { name: "etc/keep", type: "file", mode: 0o644, body: "kept" },
      { name: "etc/doomed", type: "file", mode: 0o644, body: "bye" },
      { name: "var/", type: "dir", mode: 0o755 },
      { name: "var/old", type: "file", mode: 0o644, body: "old" },
    ]);
    const top = await layer([
      { name: "etc/.wh.doomed", type: "file", mode: 0o644 },
      { name: "var/", type: "dir", mode: 0o755 },
      { name: "var/.wh..wh..opq", type: "file", mode: 0o644 },
      { name: "var/new", type: "file", mode: 0o644, body: "new" },
    ]);
    await image("test/two", [base, top]);
    const { lowerDirs, config } = await store.rootfsFor("test/two");
    expect(lowerDirs).toHaveLength(2);
    expect(config.WorkingDir).toBe("/srv");
    const st = fs.lstatSync(path.join(lowerDirs[0]!, "etc/doomed"));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    expect(
      sys.lgetxattr(path.join(lowerDirs[0]!, "var"), "trusted.overlay.opaque")?.toString(),
    ).toBe("y");

    const mnt = path.join(tmp, "mnt");
    fs.mkdirSync(mnt);
    sys.mount("overlay", mnt, "overlay", 1 /* MS_RDONLY */, `lowerdir=${lowerDirs.join(":")}`);
    try {
      expect(fs.readFileSync(path.join(mnt, "etc/keep"), "utf8")).toBe("kept");
      expect(fs.existsSync(path.join(mnt, "etc/doomed"))).toBe(false);
      expect(fs.readdirSync(path.join(mnt, "var"))).toEqual(["new"]);
    } finally {
      sys.umount2(mnt, 0);
    }
  });

  it("shares one snapshot between images with the same base layer", async () => {
    const base = await layer([{ name: "shared", type: "file", mode: 0o644, body: "base" }]);
    const a = await layer([{ name: "a", type: "file", mode: 0o644, body: "a" }]);
    const b = await layer([{ name: "b", type: "file", mode: 0o644, body: "b" }]);
    await image("test/a", [base, a]);
    await image("test/b", [base, b]);
    const ra = await store.rootfsFor("test/a");
    const rb = await store.rootfsFor("test/b");
    expect(ra.lowerDirs[1]).toBe(rb.lowerDirs[1]);
    expect(ra.lowerDirs[0]).not.toBe(rb.lowerDirs[0]);
    const inodes = new Set(
      [ra, rb].map((r) => fs.statSync(path.join(r.lowerDirs[1]!, "shared")).ino),
    );
    expect(inodes.size).toBe(1);
  });

  it("rejects a corrupt or truncated blob and keeps nothing of it", async () => {
    const data = Buffer.from("some layer bytes");
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    const before = store.content.listBlobs().length;
    await expect(
      store.content.putBlobBytes(Buffer.from("tampered bytes!!"), { digest }),
    ).rejects.toThrow(/digest mismatch/);
    await expect(
      store.content.putBlob([data.subarray(0, 5)], { digest, size: data.length }),
    ).rejects.toThrow(/digest mismatch/);
    expect(store.content.hasBlob(digest)).toBe(false);
    expect(store.content.listBlobs()).toHaveLength(before);
    expect(fs.readdirSync(store.content.ingestDir)).toEqual([]);
  });

  it("refuses a layer whose diffID does not match the config, leaving no snapshot", async () => {
    const l = await layer([{ name: "f", type: "file", mode: 0o644, body: "f" }]);
    const wrong = { ...l, diffID: `sha256:${"0".repeat(64)}` };
    const snaps = store.snapshots.list().length;
    await expect(image("test/bad", [wrong])).rejects.toThrow(/diffID mismatch/);
    expect(store.snapshots.list()).toHaveLength(snaps);
    expect(fs.readdirSync(store.snapshots.dir).filter((n) => n.startsWith(".tmp"))).toEqual([]);
    expect(store.hasTag("test/bad")).toBe(false);
  });

  it("tags, refuses to remove an image in use, untags with -f, and prune frees its content", async () => {
    await store.tag("test/a", "test/a-alias:v1");
    expect(store.resolve("test/a-alias:v1").id).toBe(store.resolve("test/a").id);
    const id = store.resolve("test/b").id;
    await expect(store.rm("test/b", { inUse: (i) => i === id })).rejects.toThrow(/in use/);
    await store.rm("test/b", { force: true, inUse: (i) => i === id });
    expect(store.hasTag("test/b")).toBe(false);
    expect(store.list().some((i) => i.id === id)).toBe(true); // dangling, still in use
    const kept = await store.prune({ inUse: (i) => i === id, graceMs: 0 });
    expect(store.list().some((i) => i.id === id)).toBe(true);
    const freed = await store.prune({ graceMs: 0 });
    expect(store.list().some((i) => i.id === id)).toBe(false);
    expect(freed.blobs).toBeGreaterThan(0);
    expect(freed.snapshots).toBe(1); // b's top layer; the shared base stays for test/a
    expect(freed.bytesFreed).toBeGreaterThan(0);
    expect(kept.bytesFreed).toBeLessThan(freed.bytesFreed + kept.bytesFreed + 1);
    expect((await store.rootfsFor("test/a")).lowerDirs).toHaveLength(2);
    const r = await store.rm("test/a-alias:v1");
    expect(r.untagged).toEqual(["test/a-alias:v1"]);
    expect(store.hasTag("test/a")).toBe(true);
  });

  it("bootstraps busybox once and runs from it", async () => {
    const lines: string[] = [];
    const first = await bootstrapImage(store, "busybox", { onProgress: (l) => lines.push(l) });
    expect(first.cached).toBe(false);
    const again = await bootstrapImage(store, "busybox");
    expect(again.cached).toBe(true);
    expect(again.image.id).toBe(first.image.id);
    const { lowerDirs, config } = await store.rootfsFor("busybox");
    expect(config.Cmd).toEqual(["sh"]);
    expect(fs.readlinkSync(path.join(lowerDirs[0]!, "bin/sh"))).toBe("busybox");
    expect(fs.existsSync(path.join(lowerDirs[0]!, ".complete"))).toBe(false);
    const out = execFileSync("chroot", [lowerDirs[0]!, "/bin/sh", "-c", "echo hi from $0"], {
      encoding: "utf8",
    });
    expect(out.trim()).toBe("hi from /bin/sh");
    expect(lines.some((l) => l.includes("done"))).toBe(true);
  });
});
