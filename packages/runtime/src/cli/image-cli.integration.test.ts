import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { stopDaemon } from "../daemon/daemon-control.ts";
import { runningDaemonPid } from "../daemon/daemon-files.ts";
import { startTestRegistry, type TestRegistry } from "../registry/test-registry-server.ts";

const exec = promisify(execFile);
const berthScript = fileURLToPath(new URL("../../../../berth", import.meta.url));
const canRun =
  process.getuid?.() === 0 &&
  fs.existsSync("/usr/bin/docker-registry") &&
  fs.existsSync("/usr/bin/skopeo") &&
  fs.existsSync("/usr/bin/htpasswd");
const CGROUP_PARENT = `berth-test-img-${process.pid}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let base: string;
let env: NodeJS.ProcessEnv;
let registry: TestRegistry;
let secured: TestRegistry;

/** The real `./berth …` with every Berth directory under the test's base. */
async function berth(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(berthScript, args, { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function ok(...args: string[]): Promise<string> {
  const r = await berth(...args);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function skopeo(...args: string[]): Promise<string> {
  return (await exec("skopeo", args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

describe.skipIf(!canRun)("./berth image and login (real daemon, docker-registry, skopeo)", () => {
  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-img-"));
    fs.chmodSync(base, 0o755);
    env = {
      ...process.env,
      BERTH_DATA_DIR: path.join(base, "data"),
      BERTH_RUN_DIR: path.join(base, "run"),
      BERTH_LOG_DIR: path.join(base, "log"),
      BERTH_CGROUP_PARENT: CGROUP_PARENT,
    };
    registry = await startTestRegistry(path.join(base, "registry"));
    secured = await startTestRegistry(path.join(base, "secured"), { alice: "s3cret" });
  });

  afterAll(async () => {
    const runRoot = path.join(base, "run", "runtime");
    if (runningDaemonPid(path.join(runRoot, "engine.pid")) !== null) {
      const ids = (await berth("container", "ps", "-a", "-q")).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) await berth("container", "rm", "-f", ...ids);
    }
    await stopDaemon({ runRoot });
    await registry?.stop();
    await secured?.stop();
    for (const ctrl of fs.readdirSync("/sys/fs/cgroup")) {
      const dir = `/sys/fs/cgroup/${ctrl}/${CGROUP_PARENT}`;
      if (!fs.existsSync(dir)) continue;
      for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) fs.rmdirSync(path.join(dir, child.name));
      }
      fs.rmdirSync(dir);
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it("import → ls → run → tag → push; skopeo reads what was pushed; rm; pull it back and run it", async () => {
    const id = (
      await ok(
        "image",
        "import",
        "-c",
        'CMD ["echo", "hello from the image"]',
        busyboxRootfs(),
        "test/bb:1",
      )
    ).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ls = (await ok("image", "ls")).split("\n");
    expect(ls[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(ls.find((l) => l.startsWith("test/bb "))).toMatch(
      new RegExp(`^test/bb\\s+1\\s+${id.slice(7, 19)}\\s+`),
    );
    expect(await ok("container", "run", "--rm", "--network", "none", "test/bb:1")).toBe(
      "hello from the image\n",
    );

    const remote = `${registry.host}/team/bb:1`;
    await ok("image", "tag", "test/bb:1", remote);
    const push = await ok("image", "push", remote);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push)?.[1];
    expect(digest).toBeDefined();
    const seen = JSON.parse(await skopeo("inspect", "--tls-verify=false", `docker://${remote}`));
    expect(seen.Digest).toBe(digest);
    const ours = JSON.parse(await ok("image", "inspect", "test/bb:1"))[0];
    expect(seen.Layers).toEqual(ours.layers.map((l: { digest: string }) => l.digest));
    // skopeo unpacks nothing; compare what it fetched with the store's blob, byte for byte.
    const out = path.join(base, "skopeo-oci");
    await skopeo("copy", "--src-tls-verify=false", `docker://${remote}`, `oci:${out}:x`);
    const layer = ours.layers[0].digest.slice(7);
    expect(
      fs
        .readFileSync(path.join(out, "blobs/sha256", layer))
        .equals(fs.readFileSync(path.join(base, "data/runtime/images/blobs/sha256", layer))),
    ).toBe(true);

    expect(await ok("image", "rm", "test/bb:1", remote)).toContain(`Untagged: ${remote}`);
    expect(await ok("image", "ls", "-q")).toBe("");
    const pull = await berth("image", "pull", remote);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toBe(`Digest: ${digest}\nStatus: Downloaded ${remote}\n`);
    expect(pull.stderr).toMatch(/: Download complete\n/);
    expect(
      await ok("container", "run", "--rm", "--network", "none", remote, "cat", "/etc/group"),
    ).toContain("root:x:0:");
  });

  it("pulls a Docker schema-2 image skopeo pushed, and refuses to remove an image a container uses", async () => {
    const src = `${registry.host}/team/bb:1`;
    const copy = `${registry.host}/docker/bb:v2s2`;
    await skopeo(
      "copy",
      "--format",
      "v2s2",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      `docker://${src}`,
      `docker://${copy}`,
    );
    await ok("image", "pull", "-q", copy);
    const inspect = JSON.parse(await ok("image", "inspect", copy))[0];
    expect(inspect.manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");

    const cid = (
      await ok("container", "run", "-d", "--network", "none", copy, "sleep", "60")
    ).trim();
    const refused = await berth("image", "rm", copy);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `berth: image ${copy} is in use by a container (use -f to untag it)\n`,
    );
    expect(await ok("image", "ls")).toContain(`${registry.host}/docker/bb`);
    await ok("container", "rm", "-f", cid);
    await ok("image", "rm", copy);
    const prune = await ok("image", "prune", "-a");
    expect(prune).toMatch(/^Total reclaimed space: /m);
  });

  it("login checks credentials against the registry; pull and push then use them", async () => {
    const bad = await berth("login", "-u", "alice", "-p", "wrong", secured.host);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^WARNING! Using --password/);
    expect(bad.stderr).toMatch(/berth: .*(denied|credentials|unauthorized|authentication)/i);
    const login = await new Promise<Run>((resolve) => {
      const child = execFile(
        berthScript,
        ["login", "-u", "alice", "--password-stdin", secured.host],
        { env },
        (e, stdout, stderr) =>
          resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
      child.stdin?.end("s3cret\n");
    });
    expect(login.stdout).toBe("Login Succeeded\n");
    await ok("image", "import", busyboxRootfs(), `${secured.host}/private/bb:1`);
    await ok("image", "push", `${secured.host}/private/bb:1`);
    await ok("image", "rm", `${secured.host}/private/bb:1`);
    await ok("image", "pull", "-q", `${secured.host}/private/bb:1`);
    expect(await ok("logout", secured.host)).toBe(
      `Removing login credentials for ${secured.host}\n`,
    );
    const denied = await berth("image", "pull", `${secured.host}/private/bb:1`);
    expect(denied.code).toBe(1);
  });

  it("says clearly what is wrong with bad references and missing images", async () => {
    const cases: [string[], RegExp][] = [
      [["image", "pull", `${registry.host}/nosuch/repo:1`], /not found|NOT_FOUND|unknown/i],
      [["image", "pull", "Bad Ref"], /invalid image reference/],
      [["image", "inspect", "nosuch:1"], /image nosuch:1 not found/],
      [["image", "tag", "nosuch:1", "x:1"], /image nosuch:1 not found/],
      [["image", "import", "-c", "RUN true", busyboxRootfs(), "x:1"], /RUN is not one of CMD/],
      [["image", "import", "/nonexistent", "x:1"], /no such file or directory/],
      [["image", "bogus"], /unknown verb 'image bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await berth(...args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr.trim().split("\n").at(-1), args.join(" ")).toMatch(message);
    }
    expect(await ok("image", "ls", "-q")).not.toContain("x:1");
  });

  it("volume create/ls/inspect/rm/prune, and -v NAME:/path on container run", async () => {
    expect(await ok("volume", "create", "--label", "app=shop", "berth-test-cli-vol")).toBe(
      "berth-test-cli-vol\n",
    );
    const [info] = JSON.parse(await ok("volume", "inspect", "berth-test-cli-vol"));
    expect(info).toMatchObject({
      Name: "berth-test-cli-vol",
      Driver: "local",
      Labels: { app: "shop" },
      Scope: "local",
    });
    expect(info.Mountpoint).toBe(path.join(base, "data/runtime/volumes/berth-test-cli-vol/_data"));
    await ok("image", "import", busyboxRootfs(), "test/vol:1");
    const cid = (
      await ok(
        "container",
        "run",
        "-d",
        "--network",
        "none",
        "-v",
        "berth-test-cli-vol:/data",
        "test/vol:1",
        "sh",
        "-c",
        "echo hi > /data/f; sleep 60",
      )
    ).trim();
    expect(await ok("volume", "ls", "-q", "--filter", "dangling=false")).toContain(
      "berth-test-cli-vol",
    );
    const refused = await berth("volume", "rm", "berth-test-cli-vol");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `berth: cannot remove volume berth-test-cli-vol: volume is in use - [${cid}]; remove that container first\n`,
    );
    await ok("container", "rm", "-f", cid);
    expect(fs.readFileSync(path.join(info.Mountpoint, "f"), "utf8")).toBe("hi\n");
    expect(await ok("volume", "rm", "berth-test-cli-vol")).toBe("berth-test-cli-vol\n");
    const anonymous = (await ok("volume", "create")).trim();
    expect(anonymous).toMatch(/^[0-9a-f]{64}$/);
    expect(await ok("volume", "prune")).toMatch(new RegExp(`Deleted Volumes:\n${anonymous}\n`));
    const bad = await berth("volume", "create", "bad/name");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid volume name/);
  });

  it("container commit makes an image of a container's changes; a bad --change is refused", async () => {
    await ok("image", "import", busyboxRootfs(), "test/commit-src:1");
    const cid = (
      await ok(
        "container",
        "run",
        "-d",
        "--network",
        "none",
        "test/commit-src:1",
        "sh",
        "-c",
        "echo made > /made",
      )
    ).trim();
    await ok("container", "wait", cid);
    const bad = await berth("container", "commit", "-c", "FROM scratch", cid, "test/commit-out:1");
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/FROM is not one of CMD/);
    const id = (
      await ok(
        "container",
        "commit",
        "-c",
        'CMD ["cat", "/made"]',
        "-m",
        "via cli",
        cid,
        "test/commit-out:1",
      )
    ).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    await ok("container", "rm", cid);
    expect(await ok("container", "run", "--rm", "--network", "none", "test/commit-out:1")).toBe(
      "made\n",
    );
    expect(await ok("image", "history", "test/commit-out:1")).toContain("via cli");
  });

  it("save and load Docker and OCI archives, read and written by skopeo too", async () => {
    await ok(
      "image",
      "import",
      "-c",
      'CMD ["echo", "from the archive"]',
      busyboxRootfs(),
      "test/arch:1",
    );
    const ours = JSON.parse(await ok("image", "inspect", "test/arch:1"))[0];
    const dockerTar = path.join(base, "docker.tar");
    const ociTar = path.join(base, "oci.tar");
    await ok("image", "save", "-o", dockerTar, "test/arch:1");
    await ok("image", "save", "--format", "oci-archive", "-o", ociTar, "test/arch:1");
    // skopeo reads both: the same config, the same layers (diffIDs in the Docker archive).
    const fromDocker = JSON.parse(
      await skopeo("inspect", "--raw", "--config", `docker-archive:${dockerTar}`),
    );
    expect(fromDocker.rootfs.diff_ids).toEqual(ours.config.rootfs.diff_ids);
    const fromOci = JSON.parse(await skopeo("inspect", `oci-archive:${ociTar}`));
    expect(fromOci.Layers).toEqual(ours.layers.map((l: { digest: string }) => l.digest));

    await ok("image", "rm", "test/arch:1");
    expect(await ok("image", "load", "-i", dockerTar)).toBe("Loaded image: test/arch:1\n");
    expect(await ok("container", "run", "--rm", "--network", "none", "test/arch:1")).toBe(
      "from the archive\n",
    );
    await ok("image", "rm", "test/arch:1");
    expect(await ok("image", "load", "-i", ociTar)).toBe("Loaded image: test/arch:1\n");
    expect(JSON.parse(await ok("image", "inspect", "test/arch:1"))[0].manifestDigest).toBe(
      ours.manifestDigest,
    );

    // What skopeo writes, Berth loads.
    const skopeoDocker = path.join(base, "skopeo-docker.tar");
    const skopeoOci = path.join(base, "skopeo-oci.tar");
    await skopeo("copy", `oci-archive:${ociTar}`, `docker-archive:${skopeoDocker}:other/name:2`);
    await skopeo("copy", `oci-archive:${ociTar}`, `oci-archive:${skopeoOci}:other/oci:3`);
    expect(await ok("image", "load", "-i", skopeoDocker)).toBe("Loaded image: other/name:2\n");
    expect(await ok("image", "load", "-i", skopeoOci)).toBe("Loaded image: other/oci:3\n");
    expect(await ok("container", "run", "--rm", "--network", "none", "other/name:2")).toBe(
      "from the archive\n",
    );
    expect(await ok("container", "run", "--rm", "--network", "none", "other/oci:3")).toBe(
      "from the archive\n",
    );

    // A truncated archive is refused and leaves no image behind.
    const cut = path.join(base, "cut.tar");
    const whole = fs.readFileSync(skopeoDocker);
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await ok("image", "rm", "other/name:2");
    const failed = await berth("image", "load", "-i", cut);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^berth: (invalid tar archive|cannot load the archive)/);
    expect(await ok("image", "ls")).not.toContain("other/name");
  });
});
