import fs from "node:fs";
import path from "node:path";
import { stopDaemon } from "@berth/runtime/daemon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, tempBase } from "../operator/berth-script.test-support.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("./berth image build (real daemon, real kernel)", () => {
  let base: string;
  let ctx: string;

  beforeAll(async () => {
    base = await tempBase("build");
    ctx = path.join(base, "ctx");
    fs.mkdirSync(ctx);
    expect((await berth(base, ["image", "bootstrap", "busybox"])).code).toBe(0);
  });

  afterAll(async () => {
    const ids = (await berth(base, ["container", "ps", "-a", "-q"])).stdout
      .split("\n")
      .filter(Boolean);
    if (ids.length > 0) await berth(base, ["container", "rm", "-f", ...ids]);
    await stopDaemon({ runRoot: path.join(base, "run", "runtime") });
    const parent = `berth-test-cli-${process.pid}`;
    for (const ctrl of fs.readdirSync("/sys/fs/cgroup")) {
      const dir = `/sys/fs/cgroup/${ctrl}/${parent}`;
      if (!fs.existsSync(dir)) continue;
      for (const c of fs.readdirSync(dir, { withFileTypes: true })) {
        if (c.isDirectory()) fs.rmdirSync(path.join(dir, c.name));
      }
      fs.rmdirSync(dir);
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  const write = (name: string, body: string) => fs.writeFileSync(path.join(ctx, name), body);

  it("builds a multi-stage Dockerfile with ARG, ENV, WORKDIR, COPY (honouring .dockerignore), RUN and CMD", async () => {
    write(
      "Dockerfile",
      [
        "FROM busybox AS base",
        "RUN --network=none echo from-base > /base.txt",
        "FROM base",
        "ARG GREETING=hi",
        "ENV G=$GREETING",
        "WORKDIR /app",
        "COPY . .",
        'RUN --network=none cat msg.txt && echo "G=$G"',
        'CMD ["sh", "-c", "cat /base.txt /app/msg.txt; echo $G; ls -A /app"]',
        "",
      ].join("\n"),
    );
    write("msg.txt", "hello from the context\n");
    write("secret.txt", "do not ship\n");
    write(".dockerignore", "secret.txt\n");
    const r = await berth(base, [
      "image",
      "build",
      "-t",
      "test/app:1",
      "--build-arg",
      "GREETING=hello",
      ctx,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Step 1\/9 : FROM busybox AS base\n/);
    expect(r.stdout).toContain("hello from the context\nG=hello\n");
    expect(r.stdout).toMatch(/Successfully tagged test\/app:1\n$/);
    const run = await berth(base, ["container", "run", "--rm", "--network", "none", "test/app:1"]);
    expect(run.stdout).toBe(
      "from-base\nhello from the context\nhello\n.dockerignore\nDockerfile\nmsg.txt\n",
    );

    // Unchanged: every step from the cache. One file changed: its COPY and what follows re-run.
    const again = await berth(base, [
      "image",
      "build",
      "-t",
      "test/app:1",
      "--build-arg",
      "GREETING=hello",
      ctx,
    ]);
    expect(again.stdout.match(/Using cache/g)).toHaveLength(6);
    write("msg.txt", "changed\n");
    const changed = await berth(base, [
      "image",
      "build",
      "-t",
      "test/app:1",
      "--build-arg",
      "GREETING=hello",
      ctx,
    ]);
    expect(changed.stdout.match(/Using cache/g)).toHaveLength(3);
    expect(changed.stdout).toContain("changed\nG=hello\n");
  });

  it("a failing step shows its output and exit code, makes no image and leaves no container", async () => {
    write("Dockerfile", "FROM busybox\nRUN --network=none echo about to fail && exit 3\n");
    const r = await berth(base, ["image", "build", "-t", "test/broken:1", ctx]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("about to fail");
    expect(r.stderr).toBe(
      "berth: build failed: Dockerfile line 2: the command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3\n",
    );
    expect((await berth(base, ["image", "ls"])).stdout).not.toContain("test/broken");
    expect((await berth(base, ["container", "ps", "-a", "-q"])).stdout).toBe("");
    write("Dockerfile", "FROM busybox\nRUNN oops\n");
    const bad = await berth(base, ["image", "build", ctx]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("berth: build failed: Dockerfile line 2: unknown instruction: RUNN\n");
  });
});
