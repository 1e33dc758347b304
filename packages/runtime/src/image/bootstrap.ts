import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { RuntimeError } from "../errors.ts";
import type { ImageStore, ResolvedImage } from "./image-store.ts";

/**
 * Base images without a registry. `busybox` comes from Debian's busybox-static (the rootfs that
 * test-busybox-rootfs.ts builds and caches); `debian:<suite>` from `debootstrap --variant=minbase`
 * against Debian's archive, run in its own mount namespace (`unshare --mount`) so that the
 * proc/sys mounts it makes can never outlive it. Both are skipped when the tag exists; the Debian
 * rootfs is also cached as a tarball under `cacheDir`, keyed by suite and debootstrap version.
 */
export interface BootstrapOptions {
  /** Progress lines for the terminal or dashboard. */
  onProgress?: (line: string) => void;
  /** Where rootfs caches live (default /var/cache/berth). */
  cacheDir?: string;
  mirror?: string;
  /** The busybox binary to use (default /bin/busybox, from busybox-static). */
  busybox?: string;
}

export const BOOTSTRAP_NAMES = ["busybox", "debian:bookworm"] as const;

function run(argv: string[], onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let tail = "";
    const feed = (chunk: Buffer) => {
      const text = tail + chunk.toString();
      const lines = text.split("\n");
      tail = lines.pop() ?? "";
      for (const l of lines) {
        out += `${l}\n`;
        if (l.trim() !== "") onLine(l);
      }
    };
    child.stdout.on("data", feed);
    child.stderr.on("data", feed);
    child.on("error", (e) =>
      reject(new RuntimeError("COMMAND_NOT_FOUND", `${argv[0]}: ${e.message}`)),
    );
    child.on("close", (code) => {
      if (tail !== "") {
        out += tail;
        onLine(tail);
      }
      if (code === 0) resolve(out);
      else {
        const last = out.trim().split("\n").slice(-5).join("\n");
        reject(new RuntimeError("INTERNAL", `${argv.join(" ")} exited with ${code}:\n${last}`));
      }
    });
  });
}

async function debootstrapVersion(): Promise<string> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const out = await run(["dpkg-query", "-W", "-f=${Version}", "debootstrap"], () => {}).catch(
    () => {
      throw new RuntimeError(
        "COMMAND_NOT_FOUND",
        "debootstrap is not installed (apt-get install debootstrap)",
      );
    },
  );
  return out.trim();
}

async function bootstrapBusybox(store: ImageStore, opts: BootstrapOptions): Promise<ResolvedImage> {
  const busybox = opts.busybox ?? "/bin/busybox";
  if (!fs.existsSync(busybox)) {
    throw new RuntimeError(
      "COMMAND_NOT_FOUND",
      `${busybox} not found (apt-get install busybox-static)`,
    );
  }
  opts.onProgress?.(`busybox: building a rootfs from ${busybox}`);
  const dir = busyboxRootfs(busybox, opts.cacheDir);
  opts.onProgress?.("busybox: importing");
  return store.importDirectory(dir, {
    tag: "busybox:latest",
    exclude: [".complete"],
    createdBy: `berth image bootstrap busybox (${busybox})`,
    config: { Cmd: ["sh"] },
  });
}

async function bootstrapDebian(
  store: ImageStore,
  suite: string,
  tag: string,
  opts: BootstrapOptions,
): Promise<ResolvedImage> {
  const say = opts.onProgress ?? (() => {});
  const version = await debootstrapVersion();
  const cacheDir = opts.cacheDir ?? "/var/cache/berth";
  const cache = path.join(cacheDir, `rootfs-debian-${suite}-minbase-debootstrap-${version}.tar.gz`);
  const importOpts = {
    tag,
    createdBy: `debootstrap --variant=minbase ${suite} (debootstrap ${version})`,
    config: { Cmd: ["bash"] },
  };
  if (fs.existsSync(cache)) {
    say(`debian:${suite}: importing cached rootfs ${cache}`);
    return store.importTar(fs.createReadStream(cache), importOpts);
  }
  const work = path.join(store.content.dir, "bootstrap");
  fs.mkdirSync(work, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(work, `debian-${suite}-`));
  try {
    const mirror = opts.mirror ?? "http://deb.debian.org/debian";
    say(`debian:${suite}: debootstrap --variant=minbase ${suite} from ${mirror}`);
    const root = path.join(tmp, "rootfs");
    await run(
      [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "debootstrap",
        "--variant=minbase",
        suite,
        root,
        mirror,
      ],
      (line) => say(`debian:${suite}: ${line}`),
    );
    // Downloaded packages and host-specific files do not belong in the image.
    for (const rel of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
      const d = path.join(root, rel);
      for (const n of fs.readdirSync(d, { withFileTypes: true })) {
        if (n.isFile()) fs.rmSync(path.join(d, n.name));
      }
    }
    fs.rmSync(path.join(root, "debootstrap"), { recursive: true, force: true });
    fs.writeFileSync(path.join(root, "etc/hostname"), "debian\n");
    say(`debian:${suite}: importing`);
    const img = await store.importDirectory(root, importOpts);
    // The layer blob is the rootfs as a gzip tarball: exactly what the cache holds.
    fs.mkdirSync(cacheDir, { recursive: true });
    const part = `${cache}.tmp-${process.pid}`;
    fs.copyFileSync(store.content.blobPath(img.manifest.layers[0]!.digest), part);
    fs.renameSync(part, cache);
    return img;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Builds `busybox` or `debian:<suite>` into the store unless the tag exists (then returns it).
 * Progress goes to `onProgress`.
 */
export async function bootstrapImage(
  store: ImageStore,
  name: string,
  opts: BootstrapOptions = {},
): Promise<{ image: ResolvedImage; cached: boolean }> {
  const say = opts.onProgress ?? (() => {});
  const m = /^(busybox|debian)(?::([a-z]+))?$/.exec(name);
  if (!m || (m[1] === "busybox" && m[2] !== undefined && m[2] !== "latest")) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `cannot bootstrap ${JSON.stringify(name)}: known are ${BOOTSTRAP_NAMES.join(", ")} (debian:<suite>)`,
    );
  }
  const tag = m[1] === "busybox" ? "busybox:latest" : `debian:${m[2] ?? "bookworm"}`;
  if (store.hasTag(tag)) {
    say(`${tag}: already present`);
    return { image: store.resolve(tag), cached: true };
  }
  const image =
    m[1] === "busybox"
      ? await bootstrapBusybox(store, opts)
      : await bootstrapDebian(store, m[2] ?? "bookworm", tag, opts);
  say(`${tag}: done (${image.id.slice(7, 19)})`);
  return { image, cached: false };
}
