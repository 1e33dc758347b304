import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { stopDaemon } from "../daemon/daemon-control.ts";
import { type TestBerth, testBerth } from "./test-berth-daemon.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("./berth volume and -v NAME:/path (real daemon, real kernel)", () => {
  let b: TestBerth;
  let rootfs: string;

  /** `container run` without a network on the test's rootfs. */
  const run = (...args: string[]) =>
    b.run("container", "run", "--network", "none", "--rootfs", rootfs, ...args);
  const volumeNames = async () => (await b.ok("volume", "ls", "-q")).split("\n").filter(Boolean);

  async function until(check: () => Promise<boolean>): Promise<void> {
    // Bounded by the test's own timeout; this only waits for the daemon to catch up.
    while (!(await check())) await new Promise((r) => setTimeout(r, 100));
  }

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

  it("a volume made by -v keeps what one container wrote for the next; two running containers share one", async () => {
    const w = await run("--rm", "-v", "berth-test-notes:/data", "sh", "-c", "echo kept > /data/n");
    expect(w.code, w.stderr).toBe(0);
    expect(await volumeNames()).toContain("berth-test-notes");
    const r = await run(
      "--rm",
      "-v",
      "berth-test-notes:/data:ro",
      "sh",
      "-c",
      "cat /data/n; touch /data/x 2>/dev/null || echo read-only",
    );
    expect(r.stdout).toBe("kept\nread-only\n");

    const reader = (
      await b.ok(
        "container",
        "run",
        "-d",
        "--network",
        "none",
        "--rootfs",
        rootfs,
        "-v",
        "berth-test-notes:/shared",
        "sh",
        "-c",
        "while [ ! -f /shared/flag ]; do sleep 0.05; done; cat /shared/flag",
      )
    ).trim();
    expect(
      (await run("--rm", "-v", "berth-test-notes:/s", "sh", "-c", "echo hi > /s/flag")).code,
    ).toBe(0);
    expect(await b.ok("container", "wait", reader)).toBe("0\n");
    expect(await b.ok("container", "logs", reader)).toBe("hi\n");
    await b.ok("container", "rm", reader);
  });

  it("an empty volume gets the image's directory first, owners and modes kept (copy-up)", async () => {
    await b.ok("volume", "create", "berth-test-app");
    const r = await run(
      "--rm",
      "-v",
      "berth-test-app:/srv/app",
      "sh",
      "-c",
      "stat -c '%u:%g %a' /srv/app /srv/app/conf; cat /srv/app/conf; echo mine > /srv/app/added",
    );
    expect(r.stdout).toBe("70:70 750\n70:70 640\nfrom the image\n");
    const [info] = JSON.parse(await b.ok("volume", "inspect", "berth-test-app"));
    expect(fs.readdirSync(info.Mountpoint).sort()).toEqual(["added", "conf"]);
    expect(fs.statSync(info.Mountpoint).uid).toBe(70);
    // Copied once: a volume that has content is mounted as it is.
    fs.rmSync(path.join(info.Mountpoint, "conf"));
    expect((await run("--rm", "-v", "berth-test-app:/srv/app", "ls", "/srv/app")).stdout).toBe(
      "added\n",
    );
    await b.ok("volume", "rm", "berth-test-app");
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
    });
    expect(info.Mountpoint).toBe(path.join(b.root, "volumes/berth-test-used/_data"));
    expect(Number.isNaN(Date.parse(info.CreatedAt))).toBe(false);

    // Created, never started: in use all the same.
    const id = (
      await b.ok(
        "container",
        "create",
        "--network",
        "none",
        "--rootfs",
        rootfs,
        "-v",
        "berth-test-used:/u",
        "true",
      )
    ).trim();
    const refusal = `berth: cannot remove volume berth-test-used: volume is in use - [${id}]; remove that container first\n`;
    const refused = await b.run("volume", "rm", "berth-test-used");
    expect(refused).toMatchObject({ code: 1, stdout: "", stderr: refusal });
    expect(await b.ok("volume", "ls", "-q", "--filter", "dangling=false")).toContain(
      "berth-test-used",
    );
    expect(await b.ok("volume", "ls", "-q", "--filter", "dangling=true")).not.toContain(
      "berth-test-used",
    );

    await stopDaemon({ runRoot: path.join(b.base, "run", "runtime") });
    const again = await b.run("volume", "rm", "-f", "berth-test-used");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(refusal);
    expect(fs.existsSync(info.Mountpoint)).toBe(true);

    await b.ok("container", "rm", id);
    expect(await b.ok("volume", "rm", "berth-test-used")).toBe("berth-test-used\n");
    expect(fs.existsSync(path.dirname(info.Mountpoint))).toBe(false);
    expect(await b.run("volume", "rm", "berth-test-used")).toMatchObject({
      code: 1,
      stderr: "berth: no such volume: berth-test-used\n",
    });
    expect(await b.run("volume", "rm", "-f", "berth-test-used")).toMatchObject({
      code: 0,
      stdout: "",
      stderr: "",
    });
    expect(await b.run("volume", "inspect", "berth-test-used")).toMatchObject({
      code: 1,
      stdout: "[]\n",
      stderr: "berth: no such volume: berth-test-used\n",
    });
  });

  it("--rm and rm -v remove a container's anonymous volumes but keep named ones; prune and prune -a", async () => {
    const before = new Set(await volumeNames());
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
    await until(async () => (await b.ok("container", "ps", "-a", "-q")) === "");
    expect((await volumeNames()).filter((n) => !before.has(n))).toEqual(["berth-test-kept"]);

    const withV = (
      await b.ok(
        "container",
        "create",
        "--network",
        "none",
        "--rootfs",
        rootfs,
        "-v",
        "/anon",
        "true",
      )
    ).trim();
    const without = (
      await b.ok(
        "container",
        "create",
        "--network",
        "none",
        "--rootfs",
        rootfs,
        "-v",
        "/anon",
        "true",
      )
    ).trim();
    const anonymous = (await volumeNames()).filter(
      (n) => !before.has(n) && n !== "berth-test-kept",
    );
    expect(anonymous).toHaveLength(2);
    for (const n of anonymous) expect(n).toMatch(/^[0-9a-f]{64}$/);
    await b.ok("container", "rm", "-v", withV);
    const [left] = (await volumeNames()).filter((n) => anonymous.includes(n));
    expect(left).toBeDefined();

    // In use: kept by both prunes. Then, unused: the anonymous one goes first, named ones with -a.
    expect(await b.ok("volume", "prune")).toBe("Total reclaimed space: 0B\n");
    await b.ok("container", "rm", without);
    fs.writeFileSync(path.join(b.root, "volumes/berth-test-kept/_data/b"), Buffer.alloc(1500));
    expect(await b.ok("volume", "prune")).toBe(
      `Deleted Volumes:\n${left}\n\nTotal reclaimed space: 0B\n`,
    );
    expect(await volumeNames()).toContain("berth-test-kept");
    const all = await b.ok("volume", "prune", "-a");
    expect(all).toContain("berth-test-kept\n");
    expect(all).toMatch(/Total reclaimed space: 1\.5kB\n$/);
    expect(await volumeNames()).toEqual([]);
  });

  it("bad names and bad -v get one clear error and change nothing", async () => {
    await b.ok("volume", "create", "berth-test-bystander");
    const names = await volumeNames();
    for (const bad of ["bad/name", "a", "-x", "."]) {
      const r = await b.run("volume", "create", bad);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`invalid volume name ${JSON.stringify(bad)}`);
    }
    for (const [flag, why] of [
      ["bad name:/x", `"bad name" is not a volume name`],
      ["./rel:/x", `"./rel" is not a volume name`],
      ["berth-test-new:rel", "the container path must be an absolute path"],
      ["berth-test-new:/x:zz", 'unknown mode "zz"'],
      ["berth-test-new:/", "the container path cannot be /"],
    ] as const) {
      const r = await run("--rm", "-v", flag, "true");
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(`invalid argument "${flag}" for --volume: ${why}`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    // Refused by the engine after the named volume was made: it is taken away again.
    const late = await run(
      "--rm",
      "-v",
      "berth-test-new:/x",
      "-v",
      "/nonexistent/berth-test:/y",
      "true",
    );
    expect(late.code).toBe(125);
    expect(late.stderr).toContain("the host path /nonexistent/berth-test does not exist");
    expect(await volumeNames()).toEqual(names);
    expect(await b.ok("container", "ps", "-a", "-q")).toBe("");
    const filter = await b.run("volume", "ls", "--filter", "label=x");
    expect(filter.code).toBe(1);
    expect(filter.stderr).toContain("unsupported filter");
    await b.ok("volume", "rm", "berth-test-bystander");
  });
});
