import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import type { ResolvedImage } from "../image/image-store.ts";
import type { ContainerConfig } from "../image/oci-schemas.ts";
import { commitTestImage, makeTestLayer, type TestLayer } from "../image/test-image-layers.ts";
import type { RunInput } from "./run-input.ts";
import {
  expectNothingLeft,
  type RunResult,
  startTestEngine,
  type TestEngine,
} from "./test-engine.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("run IMAGE: containers from the image store (real kernel)", () => {
  let t: TestEngine;
  let base: ResolvedImage;
  let users: TestLayer;

  async function runImage(input: RunInput): Promise<RunResult> {
    const s = await t.engine.run({ network: "none", ...input });
    const exit = await t.engine.wait(s.id);
    const out = t.engine
      .logs(s.id)
      .map((l) => l.log)
      .join("");
    const state = t.engine.inspect(s.id);
    await t.engine.remove(s.id);
    return { ...exit, out, state };
  }

  /** An image of busybox plus `layers`, with this run config. */
  async function imageOf(tag: string, layers: TestLayer[], config: ContainerConfig): Promise<void> {
    const baseLayer = { desc: base.manifest.layers[0]!, diffID: base.config.rootfs.diff_ids[0]! };
    await commitTestImage(t.engine.images, tag, [baseLayer, ...layers], config);
  }

  beforeAll(async () => {
    t = await startTestEngine();
    base = await t.engine.images.importDirectory(t.rootfs, { tag: "test/busybox" });
    users = await makeTestLayer(t.engine.images, [
      { name: "etc/", type: "dir", mode: 0o755 },
      {
        name: "etc/passwd",
        type: "file",
        mode: 0o644,
        body: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n",
      },
      {
        name: "etc/group",
        type: "file",
        mode: 0o644,
        body: "root:x:0:\nstaff:x:1001:\nextra:x:1002:app\n",
      },
    ]);
  });

  afterAll(async () => {
    if (!t) return;
    for (const c of t.engine.list({ all: true })) await t.engine.remove(c.id, { force: true });
    await t.engine.close();
    expectNothingLeft(t);
    fs.rmSync(t.dir, { recursive: true, force: true });
  });

  it("runs with the image's Env, WorkingDir and User (a name from its /etc/passwd); flags win", async () => {
    await imageOf("test/app", [users], {
      Cmd: ["sh", "-c", "echo default"],
      Env: ["PATH=/bin", "FROM_IMAGE=1", "OVERRIDE=image"],
      WorkingDir: "/srv/app",
      User: "app",
      StopSignal: "SIGINT",
      ExposedPorts: { "8080/tcp": {}, "53/udp": {} },
    });
    const script = 'echo "$FROM_IMAGE $OVERRIDE"; pwd; id -u; id -g; id -G; echo "$HOME"';
    const r = await runImage({
      image: "test/app",
      command: ["sh", "-c", script],
      env: ["OVERRIDE=flag"],
    });
    expect(r.out).toBe("1 flag\n/srv/app\n1000\n1001\n1001 1002\n/home/app\n");
    expect(r.exitCode).toBe(0);
    expect(r.state.options.stopSignal).toBe(2);
    expect(r.state.imageId).toBe(t.engine.images.resolve("test/app").id);
    expect(r.state.exposedPorts).toEqual(["8080/tcp", "53/udp"]);

    const asRoot = await runImage({
      image: "test/app",
      user: { user: { id: 0 } },
      workdir: "/tmp",
      command: ["sh", "-c", "id -u; pwd"],
    });
    expect(asRoot.out).toBe("0\n/tmp\n");
    expect((await runImage({ image: "test/app" })).out).toBe("default\n");
  });

  it("follows Docker's Entrypoint and Cmd rules", async () => {
    await imageOf("test/ep", [], {
      Entrypoint: ["echo", "ep"],
      Cmd: ["default"],
      Env: ["PATH=/bin"],
    });
    expect((await runImage({ image: "test/ep" })).out).toBe("ep default\n");
    expect((await runImage({ image: "test/ep", command: ["given"] })).out).toBe("ep given\n");
    // --entrypoint replaces Entrypoint and drops the image's Cmd.
    expect((await runImage({ image: "test/ep", entrypoint: ["echo"] })).out).toBe("\n");
    expect((await runImage({ image: "test/ep", entrypoint: ["echo"], command: ["x"] })).out).toBe(
      "x\n",
    );
  });

  it("mounts an image of 150 layers (beyond mount(2)'s one-page options); a whiteout hides a lower file", async () => {
    const layers: TestLayer[] = [];
    for (let i = 0; i < 150; i++) {
      const entries: Parameters<typeof makeTestLayer>[1] = [
        { name: "layers/", type: "dir", mode: 0o755 },
        { name: `layers/f${i}`, type: "file", mode: 0o644, body: `${i}` },
      ];
      if (i === 100) entries.push({ name: "layers/.wh.f10", type: "file", mode: 0o644 });
      layers.push(await makeTestLayer(t.engine.images, entries));
    }
    await imageOf("test/tall", layers, { Env: ["PATH=/bin"] });
    const lowerDirs = (await t.engine.images.rootfsFor("test/tall")).lowerDirs;
    expect(lowerDirs).toHaveLength(151);
    expect(lowerDirs.join(":").length).toBeGreaterThan(4096);
    const r = await runImage({
      image: "test/tall",
      command: [
        "sh",
        "-c",
        "ls /layers | wc -l; cat /layers/f0 /layers/f149; test -e /layers/f10 || echo gone",
      ],
    });
    expect(r.out).toBe("149\n0149gone\n");
  });

  it("finds users as the container sees /etc: a whiteout or an opaque /etc above hides the lower passwd", async () => {
    const whiteout = await makeTestLayer(t.engine.images, [
      { name: "etc/", type: "dir", mode: 0o755 },
      { name: "etc/.wh.passwd", type: "file", mode: 0o644 },
    ]);
    const opaque = await makeTestLayer(t.engine.images, [
      { name: "etc/", type: "dir", mode: 0o755 },
      { name: "etc/.wh..wh..opq", type: "file", mode: 0o644 },
      { name: "etc/group", type: "file", mode: 0o644, body: "root:x:0:\n" },
    ]);
    const config = { Cmd: ["id", "-u"], Env: ["PATH=/bin"], User: "app" };
    await imageOf("test/users-whited-out", [users, whiteout], config);
    await imageOf("test/users-opaque", [users, opaque], config);
    await imageOf("test/users-kept", [users, await makeTestLayer(t.engine.images, [])], config);
    for (const image of ["test/users-whited-out", "test/users-opaque"]) {
      const e = await t.engine.run({ image, network: "none" }).catch((err: unknown) => err);
      expect((e as Error).message, image).toBe(
        "unable to find user app: no matching entry in the container's /etc/passwd",
      );
    }
    // The control: the same layers with an empty one on top keep the user.
    expect((await runImage({ image: "test/users-kept" })).out).toBe("1000\n");
    // What the image lookup concluded is what the container sees.
    const seen = await runImage({
      image: "test/users-opaque",
      user: { user: { id: 0 } },
      command: ["sh", "-c", "test -e /etc/passwd || echo no passwd; cat /etc/group"],
    });
    expect(seen.out).toBe("no passwd\nroot:x:0:\n");
  });

  it("runs the image's HEALTHCHECK: starting, then healthy once the check passes", async () => {
    await imageOf("test/health", [], {
      Env: ["PATH=/bin"],
      Healthcheck: {
        Test: ["CMD-SHELL", "test -f /tmp/ready"],
        Interval: 200e6,
        Timeout: 2e9,
        Retries: 2,
      },
    });
    const c = await t.engine.run({
      image: "test/health",
      network: "none",
      command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 30"],
    });
    expect(t.engine.inspect(c.id).health?.status).toBe("starting");
    const seen = new Set<string>();
    for (let i = 0; i < 100 && t.engine.inspect(c.id).health?.status !== "healthy"; i++) {
      seen.add(t.engine.inspect(c.id).health?.status ?? "none");
      await new Promise((r) => setTimeout(r, 100));
    }
    const health = t.engine.inspect(c.id).health;
    expect(health?.status).toBe("healthy");
    expect(seen.has("unhealthy") || seen.has("starting")).toBe(true);
    expect(health?.log.at(-1)).toMatchObject({ exitCode: 0 });
    await t.engine.remove(c.id, { force: true });
  });

  it("refuses what cannot run, with a clear message and nothing created", async () => {
    const before = t.engine.list({ all: true }).length;
    const failure = async (input: RunInput) => {
      const e = await t.engine.run({ network: "none", ...input }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(RuntimeError);
      return e as RuntimeError;
    };
    const missing = await failure({ image: "nosuch:1.0" });
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toBe(
      "image nosuch:1.0 not found locally; pull it with 'berth image pull nosuch:1.0' or build it",
    );
    await imageOf("test/nocmd", [], { Env: ["PATH=/bin"] });
    expect((await failure({ image: "test/nocmd" })).message).toBe(
      "no command to run: image test/nocmd has no Entrypoint or Cmd; give one after the image name",
    );
    await imageOf("test/baduser", [], { Cmd: ["true"], User: "ghost" });
    expect((await failure({ image: "test/baduser" })).message).toContain(
      "unable to find user ghost",
    );
    expect(t.engine.list({ all: true })).toHaveLength(before);
  });
});
