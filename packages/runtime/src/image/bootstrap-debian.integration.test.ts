import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostSyscalls } from "../sys/syscalls-host.ts";
import { bootstrapImage } from "./bootstrap.ts";
import { ImageStore } from "./image-store.ts";

/**
 * debootstrap from Debian's archive took ~2 minutes here on first run; the rootfs tarball is then
 * cached under /var/cache/berth (keyed by suite and debootstrap version), so later runs only
 * import it. Skipped when debootstrap is not installed.
 */
const hasDebootstrap = fs.existsSync("/usr/sbin/debootstrap");
let tmp: string;
let store: ImageStore;

beforeAll(() => {
  tmp = fs.mkdtempSync("/tmp/berth-test-debian-");
  store = new ImageStore({ root: path.join(tmp, "root"), sys: hostSyscalls() });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!hasDebootstrap)("bootstrap debian:bookworm", () => {
  it("builds a minbase image (cached), idempotently, that runs apt", {
    timeout: 600_000,
  }, async () => {
    const lines: string[] = [];
    const first = await bootstrapImage(store, "debian:bookworm", {
      onProgress: (l) => lines.push(l),
    });
    expect(first.cached).toBe(false);
    expect(lines.length).toBeGreaterThan(1);
    expect((await bootstrapImage(store, "debian:bookworm")).cached).toBe(true);
    const { lowerDirs, config } = await store.rootfsFor("debian:bookworm");
    expect(config.Cmd).toEqual(["bash"]);
    const root = lowerDirs[0]!;
    expect(fs.readFileSync(path.join(root, "etc/debian_version"), "utf8")).toMatch(/^12\./);
    expect(fs.readlinkSync(path.join(root, "bin"))).toBe("usr/bin");
    const out = execFileSync("chroot", [root, "/usr/bin/apt-get", "--version"], {
      encoding: "utf8",
    });
    expect(out).toMatch(/^apt /);
  });
});
