import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import { commitTestImage, makeTestLayer } from "../image/test-image-layers.ts";
import type { RunInput } from "./run-input.ts";
import { expectNothingLeft, startTestEngine, type TestEngine } from "./test-engine.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("volumes (real kernel)", () => {
  let t: TestEngine;

  async function runOut(input: RunInput): Promise<string> {
    const from = input.image ? {} : { rootfs: t.rootfs };
    const s = await t.engine.run({ network: "none", ...from, ...input });
    await t.engine.wait(s.id);
    if (input.rm) return ""; // gone, with its logs
    const out = t.engine
      .logs(s.id)
      .map((l) => l.log)
      .join("");
    await t.engine.remove(s.id);
    return out;
  }

  beforeAll(async () => {
    t = await startTestEngine();
  });

  afterAll(async () => {
    if (!t) return;
    for (const c of t.engine.list({ all: true })) await t.engine.remove(c.id, { force: true });
    await t.engine.close();
    expectNothingLeft(t);
    fs.rmSync(t.dir, { recursive: true, force: true });
  });

  it("a named volume's data outlives the container that wrote it and is read by the next", async () => {
    const v = [
      {
        type: "volume" as const,
        source: "berth-test-notes",
        destination: "/data",
        readonly: false,
      },
    ];
    await runOut({ volumes: v, command: ["sh", "-c", "echo kept > /data/note"] });
    expect(t.engine.volumes.exists("berth-test-notes")).toBe(true);
    expect(await runOut({ volumes: v, command: ["cat", "/data/note"] })).toBe("kept\n");
    const ro = [{ ...v[0]!, readonly: true }];
    expect(
      await runOut({ volumes: ro, command: ["sh", "-c", "echo x > /data/y 2>&1 || echo refused"] }),
    ).toMatch(/refused/);
  });

  it("two running containers share a volume", async () => {
    const v = [
      {
        type: "volume" as const,
        source: "berth-test-shared",
        destination: "/shared",
        readonly: false,
      },
    ];
    const reader = await t.engine.run({
      rootfs: t.rootfs,
      network: "none",
      volumes: v,
      command: ["sh", "-c", "while [ ! -f /shared/flag ]; do sleep 0.05; done; cat /shared/flag"],
    });
    await runOut({ volumes: v, command: ["sh", "-c", "echo from-writer > /shared/flag"] });
    expect((await t.engine.wait(reader.id)).exitCode).toBe(0);
    expect(
      t.engine
        .logs(reader.id)
        .map((l) => l.log)
        .join(""),
    ).toBe("from-writer\n");
    // In use (even stopped): refused until the container is gone.
    expect(t.engine.volumesInUse().get("berth-test-shared")).toEqual([reader.id]);
    expect(() =>
      t.engine.volumes.remove(
        "berth-test-shared",
        t.engine.volumesInUse().get("berth-test-shared"),
      ),
    ).toThrow(/cannot remove volume berth-test-shared: volume is in use - \[[0-9a-f]{64}\]/);
    await t.engine.remove(reader.id);
    t.engine.volumes.remove("berth-test-shared", t.engine.volumesInUse().get("berth-test-shared"));
    expect(t.engine.volumes.exists("berth-test-shared")).toBe(false);
  });

  it("a new volume over an image directory gets its content (copy-up); image VOLUMEs get anonymous volumes", async () => {
    const images = t.engine.images;
    const base = await images.importDirectory(t.rootfs, { tag: "test/vol-base" });
    const lower = await makeTestLayer(images, [
      { name: "var/", type: "dir", mode: 0o755 },
      { name: "var/db/", type: "dir", mode: 0o700, uid: 70, gid: 70 },
      { name: "var/db/base", type: "file", mode: 0o600, uid: 70, gid: 70, body: "from layer 1" },
    ]);
    const upper = await makeTestLayer(images, [
      { name: "var/db/", type: "dir", mode: 0o700, uid: 70, gid: 70 },
      { name: "var/db/top", type: "file", mode: 0o644, body: "from layer 2" },
    ]);
    await commitTestImage(
      images,
      "test/db",
      [{ desc: base.manifest.layers[0]!, diffID: base.config.rootfs.diff_ids[0]! }, lower, upper],
      {
        Env: ["PATH=/bin"],
        Volumes: { "/var/db": {} },
      },
    );
    const before = new Set(t.engine.volumes.list().map((v) => v.Name));
    const s = await t.engine.run({
      image: "test/db",
      network: "none",
      command: ["sh", "-c", "ls /var/db; stat -c '%u %a' /var/db"],
    });
    await t.engine.wait(s.id);
    expect(
      t.engine
        .logs(s.id)
        .map((l) => l.log)
        .join(""),
    ).toBe("base\ntop\n70 700\n");
    const anonymous = t.engine.volumes.list().filter((v) => !before.has(v.Name));
    expect(anonymous).toHaveLength(1);
    expect(anonymous[0]?.Anonymous).toBe(true);
    expect(t.engine.inspect(s.id).options.volumes).toEqual([
      { type: "volume", source: anonymous[0]?.Name, destination: "/var/db", readonly: false },
    ]);
    // rm -v takes the anonymous volume with the container.
    await t.engine.remove(s.id, { volumes: true });
    expect(t.engine.volumes.exists(anonymous[0]!.Name)).toBe(false);

    // A named volume over the same path: copied up once, then kept as the container left it.
    const named = [
      { type: "volume" as const, source: "berth-test-db", destination: "/var/db", readonly: false },
    ];
    await runOut({ image: "test/db", volumes: named, command: ["sh", "-c", "rm /var/db/top"] });
    expect(fs.readdirSync(path.join(t.engine.volumes.dataDir("berth-test-db")))).toEqual(["base"]);
    expect(await runOut({ image: "test/db", volumes: named, command: ["ls", "/var/db"] })).toBe(
      "base\n",
    );
  });

  it("--rm removes a container's anonymous volumes but keeps named ones", async () => {
    const before = new Set(t.engine.volumes.list().map((v) => v.Name));
    await runOut({
      rm: true,
      volumes: [
        { type: "volume", source: "", destination: "/scratch", readonly: false },
        { type: "volume", source: "berth-test-kept", destination: "/kept", readonly: false },
      ],
      command: ["sh", "-c", "touch /scratch/a /kept/b"],
    });
    for (let i = 0; i < 50 && t.engine.list({ all: true }).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const after = t.engine.volumes
      .list()
      .map((v) => v.Name)
      .filter((n) => !before.has(n));
    expect(after).toEqual(["berth-test-kept"]);
  });

  it("refuses bad volume names and keeps nothing of a failed create", async () => {
    expect(() => t.engine.volumes.create("-bad")).toThrow(RuntimeError);
    const before = t.engine.volumes.list().length;
    const failed = await t.engine
      .run({
        rootfs: t.rootfs,
        network: "none",
        volumes: [
          { type: "volume", source: "", destination: "/a", readonly: false },
          { type: "volume", source: "berth-test-never", destination: "/etc", readonly: false },
          { source: "/nonexistent/host/path", destination: "/b", readonly: false },
        ],
        command: ["true"],
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(failed?.message).toMatch(/the host path \/nonexistent\/host\/path does not exist/);
    expect(t.engine.volumes.list()).toHaveLength(before);
    expect(t.engine.volumes.exists("berth-test-never")).toBe(false);
    expect(t.engine.list({ all: true })).toEqual([]);
  });

  it("copies into an existing empty volume too, and resolves image symlinks inside the image", async () => {
    // A rootfs of our own: /srv/app (owned 70:70, mode 0750) and /escape -> / (absolute link).
    const rootfs = path.join(t.dir, "rootfs-copyup");
    fs.cpSync(t.rootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(rootfs, "srv/app/sub"), { recursive: true });
    fs.writeFileSync(path.join(rootfs, "srv/app/sub/conf"), "from image\n");
    fs.chownSync(path.join(rootfs, "srv/app"), 70, 70);
    fs.chmodSync(path.join(rootfs, "srv/app"), 0o750);
    fs.symlinkSync("/", path.join(rootfs, "escape"));
    // On the host, <rootfs>/escape/<hostSecret> would lead out of the rootfs to this directory.
    const hostSecret = path.join(t.dir, "host-secret");
    fs.mkdirSync(hostSecret);
    fs.writeFileSync(path.join(hostSecret, "key"), "host only");

    t.engine.volumes.create("berth-test-precreated");
    const out = await runOut({
      rootfs,
      volumes: [
        {
          type: "volume",
          source: "berth-test-precreated",
          destination: "/srv/app",
          readonly: false,
        },
        {
          type: "volume",
          source: "berth-test-escape",
          destination: `/escape${hostSecret}`,
          readonly: false,
        },
      ],
      command: [
        "sh",
        "-c",
        `cat /srv/app/sub/conf; stat -c '%u:%g %a' /srv/app; ls -A /escape${hostSecret}`,
      ],
    });
    expect(out).toBe("from image\n70:70 750\n");
    const data = t.engine.volumes.dataDir("berth-test-precreated");
    expect(fs.readFileSync(path.join(data, "sub/conf"), "utf8")).toBe("from image\n");
    expect(fs.readdirSync(t.engine.volumes.dataDir("berth-test-escape"))).toEqual([]);
    t.engine.volumes.remove("berth-test-precreated");
    t.engine.volumes.remove("berth-test-escape");
  });
});
