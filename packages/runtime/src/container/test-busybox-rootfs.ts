import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Test and benchmark support: a busybox root filesystem built from Debian's busybox-static
 * (`apt-get install busybox-static`), cached under /var/cache/berth keyed by the binary's sha256.
 * Applets are relative symlinks in /bin so that they resolve inside the container.
 */
export function busyboxRootfs(busybox = "/bin/busybox", cacheDir = "/var/cache/berth"): string {
  const sha = createHash("sha256").update(fs.readFileSync(busybox)).digest("hex");
  const dir = path.join(cacheDir, `rootfs-busybox-${sha.slice(0, 16)}`);
  if (fs.existsSync(path.join(dir, ".complete"))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const d of ["bin", "etc", "tmp", "root", "proc", "sys", "dev"]) {
    fs.mkdirSync(path.join(tmp, d), { recursive: true });
  }
  fs.chmodSync(path.join(tmp, "tmp"), 0o1777);
  fs.copyFileSync(busybox, path.join(tmp, "bin/busybox"));
  fs.chmodSync(path.join(tmp, "bin/busybox"), 0o755);
  const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n");
  for (const a of applets) {
    if (a !== "" && a !== "busybox") fs.symlinkSync("busybox", path.join(tmp, "bin", a));
  }
  fs.writeFileSync(
    path.join(tmp, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  fs.writeFileSync(path.join(tmp, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  fs.writeFileSync(path.join(tmp, ".complete"), sha);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}
