import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitTestImage, makeTestLayer } from "../image/test-image-layers.ts";
import type { RunInput } from "./run-input.ts";
import { expectNothingLeft, startTestEngine, type TestEngine } from "./test-engine.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("container commit (real kernel)", () => {
  let t: TestEngine;

  async function runOut(input: RunInput): Promise<string> {
    const s = await t.engine.run({ network: "none", ...input });
    await t.engine.wait(s.id);
    const out = t.engine
      .logs(s.id)
      .map((l) => l.log)
      .join("");
    await t.engine.remove(s.id);
    return out;
  }

  beforeAll(async () => {
    t = await startTestEngine();
    const images = t.engine.images;
    const base = await images.importDirectory(t.rootfs, { tag: "test/commit-base" });
    const app = await makeTestLayer(images, [
      { name: "etc/", type: "dir", mode: 0o755 },
      { name: "etc/app/", type: "dir", mode: 0o755 },
      { name: "etc/app/a", type: "file", mode: 0o644, body: "original" },
      { name: "etc/app/b", type: "file", mode: 0o644, body: "doomed" },
      { name: "srv/", type: "dir", mode: 0o755 },
      { name: "srv/dir/", type: "dir", mode: 0o755 },
      { name: "srv/dir/x", type: "file", mode: 0o644, body: "x" },
    ]);
    const baseLayer = { desc: base.manifest.layers[0]!, diffID: base.config.rootfs.diff_ids[0]! };
    await commitTestImage(images, "test/app", [baseLayer, app], {
      Env: ["PATH=/bin"],
      Cmd: ["true"],
    });
  });

  afterAll(async () => {
    if (!t) return;
    for (const c of t.engine.list({ all: true })) await t.engine.remove(c.id, { force: true });
    await t.engine.close();
    expectNothingLeft(t);
    fs.rmSync(t.dir, { recursive: true, force: true });
  });

  it("turns additions, changes, deletions and a replaced directory into a layer on the image", async () => {
    const script =
      "echo new > /new; echo changed > /etc/app/a; rm /etc/app/b; rm -rf /srv/dir; mkdir /srv/dir; echo z > /srv/dir/z";
    const c = await t.engine.run({
      image: "test/app",
      network: "none",
      command: ["sh", "-c", script],
    });
    expect((await t.engine.wait(c.id)).exitCode).toBe(0);
    const image = await t.engine.commit(c.id, {
      tag: "test/committed:1",
      changes: ['CMD ["cat", "/new"]', "ENV COMMITTED=yes"],
      comment: "a test commit",
    });
    await t.engine.remove(c.id);
    expect(image.manifest.layers).toHaveLength(3);
    expect(t.engine.images.history("test/committed:1").at(-1)).toMatchObject({
      created_by: expect.stringContaining("berth container commit"),
      comment: "a test commit",
    });
    expect(await runOut({ image: "test/committed:1" })).toBe("new\n");
    const look = "cat /etc/app/a; ls /etc/app; ls /srv/dir; echo $COMMITTED";
    expect(await runOut({ image: "test/committed:1", command: ["sh", "-c", look] })).toBe(
      "changed\na\nz\nyes\n",
    );
  });

  it("freezes a running container while committing it, and it runs on afterwards", async () => {
    const c = await t.engine.run({
      image: "test/app",
      network: "none",
      command: ["sh", "-c", "echo live > /live; sleep 30"],
    });
    for (let i = 0; i < 50; i++) {
      if (fs.existsSync(`${t.dir}/lib/containers/${c.id}/upper/live`)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await t.engine.commit(c.id, { tag: "test/live:1" });
    expect(t.engine.inspect(c.id).status).toBe("running");
    expect(await runOut({ image: "test/live:1", command: ["cat", "/live"] })).toBe("live\n");
    await t.engine.remove(c.id, { force: true });
  });

  it("commits a --rootfs container: its directory becomes the base layer", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      network: "none",
      command: ["touch", "/made"],
    });
    await t.engine.wait(c.id);
    await t.engine.commit(c.id, { tag: "test/from-rootfs:1", changes: ["CMD ls /made"] });
    await t.engine.remove(c.id);
    expect(await runOut({ image: "test/from-rootfs:1" })).toBe("/made\n");
    expect(t.engine.images.list().flatMap((i) => i.tags)).not.toContain(
      expect.stringContaining("-base-"),
    );
  });

  it("refuses a bad --change before writing anything", async () => {
    const c = await t.engine.run({ image: "test/app", network: "none", command: ["true"] });
    await t.engine.wait(c.id);
    const before = t.engine.images.content.listBlobs().length;
    await expect(
      t.engine.commit(c.id, { tag: "test/bad:1", changes: ["RUN rm -rf /"] }),
    ).rejects.toThrow(/RUN is not one of CMD/);
    expect(t.engine.images.content.listBlobs()).toHaveLength(before);
    await t.engine.remove(c.id);
  });
});
