import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Digest } from "./blob-digest.ts";
import { parseImageReference } from "./image-reference.ts";
import { BlobLocations, pullImage, pushImage } from "./image-transfer.ts";
import { MediaType } from "./manifest-types.ts";
import { RegistryClient, type TransferProgressEvent } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";
import { clientWithStoredCredentials, login } from "./registry-login.ts";
import { startTestRegistry, type TestRegistry } from "./test-registry-server.ts";
import { TestTransferStore } from "./test-transfer-store.ts";

const canRun = fs.existsSync("/usr/bin/docker-registry") && fs.existsSync("/usr/bin/htpasswd");
const hasSkopeo = fs.existsSync("/usr/bin/skopeo");

/** A gzip tar layer holding `files` (random, so gzip cannot shrink them much). */
function makeLayer(work: string, files: Record<string, Buffer>): { gz: Buffer; diffId: string } {
  const dir = fs.mkdtempSync(path.join(work, "layer-"));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  const tar = execFileSync(
    "tar",
    ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-C", dir, "-cf", "-", "."],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  fs.rmSync(dir, { recursive: true });
  return { gz: gzipSync(tar), diffId: sha256Digest(tar) };
}

/** Builds a 2-layer OCI image into `store` under `tag`; returns its manifest digest. */
async function buildImage(store: TestTransferStore, work: string, tag: string, seed: string) {
  const layers = [
    makeLayer(work, { [`etc/${seed}-base`]: randomBytes(6000), "bin/tool": randomBytes(3000) }),
    makeLayer(work, {
      [`app/${seed}.txt`]: Buffer.from(`hello from ${seed}\n`),
      "app/data": randomBytes(5000),
    }),
  ];
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/sh"], Env: [`SEED=${seed}`] },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.length },
      layers: layers.map((l) => ({
        mediaType: MediaType.ociLayerGzip,
        digest: sha256Digest(l.gz),
        size: l.gz.length,
      })),
    }),
  );
  for (const blob of [config, manifest, ...layers.map((l) => l.gz)]) {
    await store.writeBlob(sha256Digest(blob), Readable.from([blob]), blob.length);
  }
  const ref = parseImageReference(`localhost/${seed}:${tag}`);
  await store.putManifest(ref, manifest, MediaType.ociManifest);
  return { digest: sha256Digest(manifest), blobs: [config, ...layers.map((l) => l.gz)] };
}

describe.skipIf(!canRun)("registry pull/push against Debian's docker-registry", () => {
  let work: string;
  let open: TestRegistry;
  let secured: TestRegistry;
  let source: TestTransferStore;
  let image: { digest: string; blobs: Buffer[] };
  const locations = new BlobLocations();

  beforeAll(async () => {
    work = fs.mkdtempSync("/tmp/berth-test-registry-");
    open = await startTestRegistry(path.join(work, "open"));
    secured = await startTestRegistry(path.join(work, "secured"), { alice: "s3cret" });
    source = await TestTransferStore.create(path.join(work, "source"));
    image = await buildImage(source, work, "v1", "first");
  });

  afterAll(async () => {
    await open?.stop();
    await secured?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("pushes a multi-layer image and pulls it back into a fresh store with equal digests", async () => {
    const client = new RegistryClient();
    const ref = parseImageReference(`${open.host}/app/a:1`);
    const events: TransferProgressEvent[] = [];
    const pushed = await pushImage(client, ref, source, image.digest, {
      locations,
      onProgress: (e) => events.push(e),
    });
    expect(pushed.digest).toBe(image.digest);
    expect(pushed.blobs.map((b) => b.action)).toEqual(["uploaded", "uploaded", "uploaded"]);
    for (const blob of image.blobs) {
      const last = events.filter((e) => e.digest === sha256Digest(blob)).at(-1);
      expect(last).toEqual({ digest: sha256Digest(blob), done: blob.length, total: blob.length });
    }

    const fresh = await TestTransferStore.create(path.join(work, "pulled"));
    const pullEvents: TransferProgressEvent[] = [];
    const pulled = await pullImage(client, ref, fresh, { onProgress: (e) => pullEvents.push(e) });
    expect(pulled.digest).toBe(image.digest);
    expect(pulled.blobs.every((b) => b.action === "downloaded")).toBe(true);
    expect(await fresh.resolveTag("1")).toBe(image.digest);
    for (const blob of image.blobs) {
      expect(fs.readFileSync(fresh.blobPath(sha256Digest(blob))).equals(blob)).toBe(true);
      expect(
        pullEvents.some((e) => e.digest === sha256Digest(blob) && e.done === blob.length),
      ).toBe(true);
    }
    const again = await pullImage(client, ref, fresh);
    expect(again.blobs.every((b) => b.action === "present")).toBe(true);
  });

  it("skips blobs the registry already has on a second push", async () => {
    const pushed = await pushImage(
      new RegistryClient(),
      parseImageReference(`${open.host}/app/a:2`),
      source,
      image.digest,
    );
    expect(pushed.blobs.map((b) => b.action)).toEqual(["exists", "exists", "exists"]);
  });

  it("mounts blobs from another repository of the same registry (201 on the mount POST)", async () => {
    const pushed = await pushImage(
      new RegistryClient(),
      parseImageReference(`${open.host}/other/b:1`),
      source,
      image.digest,
      {
        locations,
      },
    );
    expect(pushed.blobs.map((b) => [b.action, b.mountStatus, b.mountedFrom])).toEqual(
      image.blobs.map(() => ["mounted", 201, "app/a"]),
    );
    const fresh = await TestTransferStore.create(path.join(work, "pulled-mounted"));
    expect(
      (await pullImage(new RegistryClient(), parseImageReference(`${open.host}/other/b:1`), fresh))
        .digest,
    ).toBe(image.digest);
  });

  it("uploads in PATCH chunks when blobs exceed the chunk size", async () => {
    const client = new RegistryClient({ chunkSize: 1024 });
    const ref = parseImageReference(`${open.host}/chunked/c:1`);
    const pushed = await pushImage(client, ref, source, image.digest);
    expect(pushed.blobs.every((b) => b.action === "uploaded")).toBe(true);
    const fresh = await TestTransferStore.create(path.join(work, "pulled-chunked"));
    expect((await pullImage(client, ref, fresh)).digest).toBe(image.digest);
  });

  it("reports NOT_FOUND for an unknown tag", async () => {
    const error = await pullImage(
      new RegistryClient(),
      parseImageReference(`${open.host}/app/a:nope`),
      source,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("NOT_FOUND");
  });

  it("refuses wrong credentials, stores right ones 0600, and pushes and pulls with them", async () => {
    const root = path.join(work, "berth-root");
    const wrong = await login({ root }, secured.host, {
      username: "alice",
      password: "wrong",
    }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(RegistryError);
    expect((wrong as RegistryError).code).toBe("AUTH_FAILED");
    expect(fs.existsSync(path.join(root, "auth.json"))).toBe(false);

    const ref = parseImageReference(`${secured.host}/private/img:1`);
    const anonymous = await pushImage(new RegistryClient(), ref, source, image.digest).catch(
      (e: unknown) => e,
    );
    expect((anonymous as RegistryError).code).toBe("AUTH_FAILED");

    await login({ root }, secured.host, { username: "alice", password: "s3cret" });
    expect(fs.statSync(path.join(root, "auth.json")).mode & 0o777).toBe(0o600);
    const client = clientWithStoredCredentials({ root });
    expect((await pushImage(client, ref, source, image.digest)).digest).toBe(image.digest);
    const fresh = await TestTransferStore.create(path.join(work, "pulled-secured"));
    expect((await pullImage(client, ref, fresh)).digest).toBe(image.digest);
  });

  describe.skipIf(!hasSkopeo)("skopeo interoperability", () => {
    const skopeo = (...args: string[]) =>
      execFileSync("skopeo", ["--insecure-policy", ...args], { encoding: "utf8", stdio: "pipe" });

    it("skopeo reads what we pushed", async () => {
      const dir = path.join(work, "skopeo-out");
      skopeo(
        "copy",
        "--src-tls-verify=false",
        `docker://${open.host}/app/a:1`,
        `oci:${dir}:copied`,
      );
      const copied = await new TestTransferStore(dir).resolveTag("copied");
      expect(copied).toBe(image.digest);
    });

    it("we pull what skopeo pushed", async () => {
      const second = await buildImage(source, work, "v2", "second");
      skopeo(
        "copy",
        "--dest-tls-verify=false",
        `oci:${source.dir}:v2`,
        `docker://${open.host}/skopeo/img:2`,
      );
      const fresh = await TestTransferStore.create(path.join(work, "pulled-skopeo"));
      const pulled = await pullImage(
        new RegistryClient(),
        parseImageReference(`${open.host}/skopeo/img:2`),
        fresh,
      );
      expect(pulled.digest).toBe(second.digest);
      for (const blob of second.blobs) expect(await fresh.hasBlob(sha256Digest(blob))).toBe(true);
    });
  });
});
