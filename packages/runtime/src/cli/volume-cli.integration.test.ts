import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { stopDaemon } from "../daemon/daemon-control.ts";
import { type TestBerth, testBerth } from "./test-berth-daemon.ts";

const isRoot = process.getuid?.() === 0;

// Through the real ./berth and its daemon: what the verbs print, and what the daemon does on
// behalf of a CLI (--rm, rm -v, in-use checks across a restart). The engine's own suite covers
// more of sharing and copy-up (engine-volumes.integration.test.ts).
describe.skipIf(!isRoot)("./berth volume and -v NAME:/path (real daemon, real kernel)", () => {
  let b: TestBerth;
  let rootfs: string;

  /** `container run` without a network on the test's rootfs. */
  const run = (...args: string[]) =>
    b.run("container", "run", "--network", "none", "--rootfs", rootfs, ...args);
  const create = async (...args: string[]) =>
    (await b.ok("container", "create", "--network", "none", "--rootfs", rootfs, ...args)).trim();
  /** The volumes on disk, read directly: what a verb really left. */
  const volumesOnDisk = () => {
    const dir = path.join(b.root, "volumes");
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  };

  beforeAll(() => {
    b = testBerth("vol");
    // The busybox rootfs plus /srv/app (70:70, mode 0750, with a file) to be copied up.
    rootfs = path.join(b.base, "rootfs");
    fs.cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(rootfs, "srv/app"), { recursive: true });
    fs.writeFileSync(path.join(rootfs, "srv/app/conf"), "from the image\n", { mode: 0o640 });
    fs.chownSync(path.join(rootfs, "srv/app"), 70, 70);
    fs.chownSync(path.join(rootfs, "srv/app/conf"), 70, 70);
    fs.chmodSync(path.join(rootfs, "srv/app"), 0o750);
  });

  afterAll(async () => {
    await b?.close();
  });

  it("-v NAME:/path makes the volume, copies the image's directory in, and keeps what a container wrote for the next", async () => {
    const first = await run(
      "--rm",
      "-v",
      "berth-test-app:/srv/app",
      "sh",
      "-c",
      "stat -c '%u:%g %a' /srv/app /srv/app/conf; cat /srv/app/conf; echo mine > /srv/app/added",
    );
    expect(first).toMatchObject({ code: 0, stdout: "70:70 750\n70:70 640\nfrom the image\n" });
    const second = await run(
      "--rm",
      "-v",
      "berth-test-app:/srv/app:ro",
      "sh",
      "-c",
      "ls /srv/app; touch /srv/app/x 2>/dev/null || echo read-only",
    );
    expect(second.stdout).toBe("added\nconf\nread-only\n");
    expect(await b.ok("volume", "ls")).toBe("DRIVER    VOLUME NAME\nlocal     berth-test-app\n");
    expect(await b.ok("volume", "rm", "berth-test-app")).toBe("berth-test-app\n");
    expect(volumesOnDisk()).toEqual([]);
  });

  it("volume rm is refused while any container uses it (also after a daemon restart), then works", async () => {
    expect(
      await b.ok("volume", "create", "--label", "app=shop", "--label", "tier", "berth-test-used"),
    ).toBe("berth-test-used\n");
    const [info] = JSON.parse(await b.ok("volume", "inspect", "berth-test-used"));
    expect(Object.keys(info).sort()).toEqual([
      "Anonymous",
      "CreatedAt",
      "Driver",
      "Labels",
      "Mountpoint",
      "Name",
      "Scope",
    ]);
    expect(info).toMatchObject({
      Name: "berth-test-used",
      Driver: "local",
      Scope: "local",
      Labels: { app: "shop", tier: "" },
      Anonymous: false,
      Mountpoint: path.join(b.root, "volumes/berth-test-used/_data"),
    });
    expect(Number.isNaN(Date.parse(info.CreatedAt))).toBe(false);
    fs.writeFileSync(path.join(info.Mountpoint, "keep"), "1");

    // Created, never started: in use all the same.
    const id = await create("-v", "berth-test-used:/u", "true");
    const refusal = `berth: cannot remove volume berth-test-used: volume is in use - [${id}]; remove that container first\n`;
    expect(await b.run("volume", "rm", "berth-test-used")).toMatchObject({
      code: 1,
      stdout: "",
      stderr: refusal,
    });
    expect(await b.ok("volume", "ls", "-q", "--filter", "dangling=true")).toBe("");

    // The daemon learns who uses what from the containers' state after a restart.
    await stopDaemon({ runRoot: path.join(b.base, "run", "runtime") });
    const again = await b.run("volume", "rm", "-f", "berth-test-used");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(refusal);
    expect(fs.readFileSync(path.join(info.Mountpoint, "keep"), "utf8")).toBe("1");

    await b.ok("container", "rm", id);
    expect(await b.ok("volume", "rm", "berth-test-used")).toBe("berth-test-used\n");
    expect(volumesOnDisk()).toEqual([]);
    expect(await b.run("volume", "rm", "berth-test-used", "berth-test-none")).toMatchObject({
      code: 1,
      stderr: "berth: no such volume: berth-test-used\nberth: no such volume: berth-test-none\n",
    });
    expect(await b.run("volume", "rm", "-f", "berth-test-used")).toMatchObject({
      code: 0,
      stdout: "",
      stderr: "",
    });
  });

  it("--rm and rm -v remove a container's anonymous volumes but keep named ones; prune, prune -a", async () => {
    const r = await run(
      "--rm",
      "-v",
      "/scratch",
      "-v",
      "berth-test-kept:/kept",
      "sh",
      "-c",
      "touch /scratch/a /kept/b",
    );
    expect(r.code, r.stderr).toBe(0);
    // The command ends once the container is gone, with its anonymous volume.
    expect(volumesOnDisk()).toEqual(["berth-test-kept"]);

    const withV = await create("-v", "/anon", "true");
    const without = await create("-v", "/anon", "true");
    const anonymous = volumesOnDisk().filter((n) => n !== "berth-test-kept");
    expect(anonymous).toHaveLength(2);
    for (const n of anonymous) expect(n).toMatch(/^[0-9a-f]{64}$/);
    await b.ok("container", "rm", "-v", withV);
    const left = volumesOnDisk().filter((n) => n !== "berth-test-kept");
    expect(left).toHaveLength(1);

    // In use: kept by prune. Unused: the anonymous one goes, the named one only with -a.
    expect(await b.ok("volume", "prune")).toBe("Total reclaimed space: 0B\n");
    await b.ok("container", "rm", without);
    expect(volumesOnDisk()).toEqual(["berth-test-kept", left[0]].sort());
    fs.writeFileSync(path.join(b.root, "volumes/berth-test-kept/_data/b"), Buffer.alloc(1500));
    expect(await b.ok("volume", "prune")).toBe(
      `Deleted Volumes:\n${left[0]}\n\nTotal reclaimed space: 0B\n`,
    );
    expect(volumesOnDisk()).toEqual(["berth-test-kept"]);
    expect(await b.ok("volume", "prune", "-a")).toBe(
      "Deleted Volumes:\nberth-test-kept\n\nTotal reclaimed space: 1.5kB\n",
    );
    expect(volumesOnDisk()).toEqual([]);
  });

  it("bad names and bad -v get one clear error and change nothing", async () => {
    await b.ok("volume", "create", "berth-test-bystander");
    // (Every rule of names and -v is unit-tested; here, what the command does with a refusal.)
    const badName = await b.run("volume", "create", "bad/name");
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('invalid volume name "bad/name"');
    const badFlag = await run("--rm", "-v", "bad name:/x", "true");
    expect(badFlag.code).toBe(125);
    expect(badFlag.stderr).toBe(
      `berth: invalid argument "bad name:/x" for --volume: "bad name" is not a volume name (2 or more letters, digits, '_', '.', '-', the first a letter or digit); for a host directory give an absolute path\n`,
    );
    // Refused by the engine after the new volume was made: it is taken away again; the
    // existing one it also named stays, data and all.
    fs.writeFileSync(path.join(b.root, "volumes/berth-test-bystander/_data/f"), "x");
    const late = await run(
      "-v",
      "berth-test-new:/x",
      "-v",
      "berth-test-bystander:/b",
      "-v",
      "/nonexistent/berth-test:/y",
      "true",
    );
    expect(late.code).toBe(125);
    expect(late.stderr).toContain("the host path /nonexistent/berth-test does not exist");
    expect(volumesOnDisk()).toEqual(["berth-test-bystander"]);
    expect(fs.readdirSync(path.join(b.root, "volumes/berth-test-bystander/_data"))).toEqual(["f"]);
    expect(await b.ok("container", "ps", "-a", "-q")).toBe("");
    const filter = await b.run("volume", "ls", "--filter", "label=x");
    expect(filter.code).toBe(1);
    expect(filter.stderr).toContain("unsupported filter");
    await b.ok("volume", "rm", "berth-test-bystander");
  });
});
