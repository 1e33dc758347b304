import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../network/free-port.ts";
import { sha256Digest, writeVerifiedFile } from "./blob-digest.ts";
import { CredentialStore } from "./credential-store.ts";
import { parseImageReference } from "./image-reference.ts";
import { MediaType } from "./manifest-types.ts";
import { RegistryClient } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";
import {
  type RecordedRequest,
  sendJson,
  startTestHttpServer,
  type TestHttpServer,
} from "./test-http-server.ts";

const servers: TestHttpServer[] = [];
async function serve(
  handler: (req: RecordedRequest, res: import("node:http").ServerResponse) => void,
) {
  const server = await startTestHttpServer(handler);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-registry-unit-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
const layer = randomBytes(1000);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.length },
    layers: [
      { mediaType: MediaType.ociLayerGzip, digest: sha256Digest(layer), size: layer.length },
    ],
  }),
);
const manifestDigest = sha256Digest(manifest);

function sendManifest(
  res: import("node:http").ServerResponse,
  bytes = manifest,
  type: string = MediaType.ociManifest,
) {
  res.writeHead(200, {
    "content-type": type,
    "content-length": bytes.length,
    "docker-content-digest": sha256Digest(bytes),
  });
  res.end(bytes);
}

async function caught(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    return error as RegistryError;
  }
  throw new Error("expected a RegistryError");
}

describe("RegistryClient bearer token auth", () => {
  async function tokenRegistry(expectBasic?: string) {
    const tokens = await serve((req, res) => {
      const url = new URL(req.url, "http://x");
      if (expectBasic && req.headers.authorization !== expectBasic) {
        sendJson(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] });
        return;
      }
      sendJson(res, 200, {
        token: `tok-${url.searchParams.getAll("scope").join("+")}`,
        expires_in: 300,
      });
    });
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== "Bearer tok-repository:app/web:pull") {
        sendJson(
          res,
          401,
          { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
          {
            "www-authenticate": `Bearer realm="${tokens.url}/token",service="test-registry",scope="repository:app/web:pull"`,
          },
        );
        return;
      }
      sendManifest(res);
    });
    return { tokens, registry };
  }

  it("fetches an anonymous token once and caches it per scope", async () => {
    const { tokens, registry } = await tokenRegistry();
    const client = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/app/web:1`);
    const first = await client.getManifest(ref);
    const second = await client.getManifest(ref);
    expect(first.digest).toBe(manifestDigest);
    expect(second.digest).toBe(manifestDigest);
    expect(tokens.requests).toHaveLength(1);
    const tokenUrl = new URL(tokens.requests[0]!.url, "http://x");
    expect(tokenUrl.searchParams.get("service")).toBe("test-registry");
    expect(tokenUrl.searchParams.getAll("scope")).toEqual(["repository:app/web:pull"]);
    expect(tokens.requests[0]!.headers.authorization).toBeUndefined();
    // One 401, then two authorised requests.
    expect(registry.requests.map((r) => r.headers.authorization ?? "none")).toEqual([
      "none",
      "Bearer tok-repository:app/web:pull",
      "Bearer tok-repository:app/web:pull",
    ]);
  });

  it("sends stored credentials to the token realm, and maps a refusal to AUTH_FAILED", async () => {
    const basic = `Basic ${Buffer.from("alice:secret").toString("base64")}`;
    const { tokens, registry } = await tokenRegistry(basic);
    const ref = parseImageReference(`${registry.host}/app/web:1`);
    const good = new RegistryClient({
      credentials: async (r) =>
        r === registry.host ? { username: "alice", password: "secret" } : undefined,
    });
    expect((await good.getManifest(ref)).digest).toBe(manifestDigest);
    expect(new URL(tokens.requests[0]!.url, "http://x").searchParams.get("account")).toBe("alice");

    const bad = new RegistryClient({
      credentials: async () => ({ username: "alice", password: "nope" }),
    });
    const error = await caught(bad.getManifest(ref));
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain("bad credentials");
    expect(error.message).toContain(`${registry.host}/app/web:1`);
    expect(error.message).toContain("berth login");
  });
});

describe("RegistryClient basic auth and redirects", () => {
  it("answers a Basic challenge with stored credentials and then sends them up front", async () => {
    const basic = `Basic ${Buffer.from("bob:pw").toString("base64")}`;
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== basic) {
        sendJson(
          res,
          401,
          { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
          {
            "www-authenticate": 'Basic realm="test"',
          },
        );
        return;
      }
      sendManifest(res);
    });
    const client = new RegistryClient({
      credentials: async () => ({ username: "bob", password: "pw" }),
    });
    const ref = parseImageReference(`${registry.host}/a:1`);
    await client.getManifest(ref);
    await client.getManifest(ref);
    expect(registry.requests).toHaveLength(3);

    const anonymous = new RegistryClient();
    const error = await caught(anonymous.getManifest(ref));
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain(`berth login ${registry.host}`);
  });

  it("follows a blob redirect to another host without forwarding Authorization", async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200, { "content-length": layer.length });
      res.end(layer);
    });
    const basic = `Basic ${Buffer.from("bob:pw").toString("base64")}`;
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== basic) {
        sendJson(res, 401, {}, { "www-authenticate": 'Basic realm="test"' });
        return;
      }
      res.writeHead(307, { location: `${storage.url}/bucket/blob?sig=1` });
      res.end();
    });
    const client = new RegistryClient({
      credentials: async () => ({ username: "bob", password: "pw" }),
    });
    const ref = parseImageReference(`${registry.host}/a:1`);
    const file = path.join(tmp, "redirected-blob");
    await client.getBlob(
      ref,
      { digest: sha256Digest(layer), size: layer.length },
      fs.createWriteStream(file),
    );
    expect(fs.readFileSync(file).equals(layer)).toBe(true);
    expect(registry.requests.at(-1)!.headers.authorization).toBe(basic);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]!.url).toBe("/bucket/blob?sig=1");
    expect(storage.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe("RegistryClient error mapping", () => {
  it("maps 404 MANIFEST_UNKNOWN to NOT_FOUND", async () => {
    const registry = await serve((_req, res) =>
      sendJson(res, 404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }),
    );
    const error = await caught(
      new RegistryClient().getManifest(parseImageReference(`${registry.host}/a:missing`)),
    );
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(`fetching manifest ${registry.host}/a:missing`);
    expect(error.message).toContain("MANIFEST_UNKNOWN");
  });

  it("maps 429 to RATE_LIMITED with Retry-After", async () => {
    const registry = await serve((_req, res) =>
      sendJson(
        res,
        429,
        { errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] },
        { "retry-after": "42" },
      ),
    );
    const error = await caught(
      new RegistryClient().getManifest(parseImageReference(`${registry.host}/a:1`)),
    );
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.context.retryAfterSeconds).toBe(42);
    expect(error.message).toContain("retry after 42 s");
  });

  it("maps a 500 to PROTOCOL and a refused connection to NETWORK naming host:port", async () => {
    const registry = await serve((_req, res) => sendJson(res, 500, "boom"));
    const error = await caught(
      new RegistryClient().getManifest(parseImageReference(`${registry.host}/a:1`)),
    );
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("500");

    const port = await freePort();
    const refused = await caught(
      new RegistryClient().getManifest(parseImageReference(`127.0.0.1:${port}/a:1`)),
    );
    expect(refused.code).toBe("NETWORK");
    expect(refused.message).toContain(`127.0.0.1:${port}`);
    expect(refused.message).toContain("ECONNREFUSED");
  });

  it("rejects a manifest whose bytes do not match Docker-Content-Digest or the digest asked for", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, {
        "content-type": MediaType.ociManifest,
        "docker-content-digest": `sha256:${"0".repeat(64)}`,
      });
      res.end(manifest);
    });
    const client = new RegistryClient();
    const byTag = await caught(client.getManifest(parseImageReference(`${registry.host}/a:1`)));
    expect(byTag.code).toBe("DIGEST_MISMATCH");
    expect(byTag.message).toContain("Docker-Content-Digest");
    const byDigest = await caught(
      client.getManifest(parseImageReference(`${registry.host}/a@sha256:${"1".repeat(64)}`)),
    );
    expect(byDigest.code).toBe("DIGEST_MISMATCH");
  });

  it("fails a corrupt blob with DIGEST_MISMATCH and keeps no file", async () => {
    const registry = await serve((_req, res) => {
      const corrupt = Buffer.from(layer);
      corrupt[10] = (corrupt[10] ?? 0) ^ 0xff;
      res.writeHead(200, { "content-length": corrupt.length });
      res.end(corrupt);
    });
    const ref = parseImageReference(`${registry.host}/a:1`);
    const dir = fs.mkdtempSync(path.join(tmp, "blob-"));
    const file = path.join(dir, "blob");
    const stream = await new RegistryClient().openBlob(ref, {
      digest: sha256Digest(layer),
      size: layer.length,
    });
    const error = await caught(writeVerifiedFile(file, sha256Digest(layer), stream));
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.message).toContain(sha256Digest(layer));
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("RegistryClient index selection", () => {
  it("follows nested indexes to the linux/amd64 manifest", async () => {
    const inner = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          {
            mediaType: MediaType.ociManifest,
            digest: `sha256:${"2".repeat(64)}`,
            size: 1,
            platform: { os: "linux", architecture: "arm64" },
          },
          {
            mediaType: MediaType.ociManifest,
            digest: manifestDigest,
            size: manifest.length,
            platform: { os: "linux", architecture: "amd64" },
          },
        ],
      }),
    );
    const outer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerList,
        manifests: [
          { mediaType: MediaType.ociIndex, digest: sha256Digest(inner), size: inner.length },
        ],
      }),
    );
    const registry = await serve((req, res) => {
      if (req.url.endsWith("/manifests/1")) sendManifest(res, outer, MediaType.dockerList);
      else if (req.url.endsWith(sha256Digest(inner))) sendManifest(res, inner, MediaType.ociIndex);
      else if (req.url.endsWith(manifestDigest)) sendManifest(res, manifest);
      else sendJson(res, 404, { errors: [{ code: "MANIFEST_UNKNOWN" }] });
    });
    const resolved = await new RegistryClient().getManifest(
      parseImageReference(`${registry.host}/a:1`),
    );
    expect(resolved.digest).toBe(manifestDigest);
    expect(resolved.indexes.map((i) => i.digest)).toEqual([
      sha256Digest(outer),
      sha256Digest(inner),
    ]);
    expect(resolved.manifest.layers[0]!.digest).toBe(sha256Digest(layer));
    expect(registry.requests[0]!.headers.accept).toContain(MediaType.ociIndex);
    expect(registry.requests[0]!.headers.accept).toContain(MediaType.dockerManifest);

    const arm = new RegistryClient({ platform: { os: "linux", architecture: "s390x" } });
    const error = await caught(arm.getManifest(parseImageReference(`${registry.host}/a:1`)));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("linux/s390x");
  });
});

describe("CredentialStore", () => {
  it("stores credentials per registry host in a 0600 auth.json", async () => {
    const root = fs.mkdtempSync(path.join(tmp, "root-"));
    const store = new CredentialStore(root);
    await store.set("127.0.0.1:5000", { username: "u", password: "p:w" });
    await store.set("https://index.docker.io/v1/", { username: "d", password: "x" });
    expect(await store.get("127.0.0.1:5000")).toEqual({ username: "u", password: "p:w" });
    expect(await store.get("docker.io")).toEqual({ username: "d", password: "x" });
    expect(await store.get("127.0.0.1:5001")).toBeUndefined();
    expect(fs.statSync(path.join(root, "auth.json")).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(root)).toEqual(["auth.json"]);
    expect(await store.remove("127.0.0.1:5000")).toBe(true);
    expect(await store.get("127.0.0.1:5000")).toBeUndefined();
  });
});

it("writeVerifiedFile commits matching content", async () => {
  const file = path.join(tmp, "ok-blob");
  await writeVerifiedFile(file, sha256Digest(layer), Readable.from([layer]), {
    size: layer.length,
  });
  expect(fs.readFileSync(file).equals(layer)).toBe(true);
});
