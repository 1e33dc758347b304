import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { sha256Digest, verifiedStream } from "./blob-digest.ts";
import { type Attempt, discard, fetchFollowingRedirects } from "./http-transport.ts";
import {
  formatImageReference,
  type ImageReference,
  isLoopbackHost,
  manifestReference,
} from "./image-reference.ts";
import {
  type Descriptor,
  detectManifestMediaType,
  type ImageIndex,
  type ImageManifest,
  imageIndexSchema,
  imageManifestSchema,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
  type Platform,
} from "./manifest-types.ts";
import { type CredentialLookup, RegistryAuthenticator } from "./registry-auth.ts";
import { errorFromResponse, RegistryError } from "./registry-error.ts";

export interface RegistryClientOptions {
  /** Stored credentials by registry name; anonymous when absent. */
  credentials?: CredentialLookup;
  /** Whether a host is spoken to over plain HTTP; loopback hosts only, by default. */
  plainHttp?: (host: string) => boolean;
  /** The platform chosen from image indexes; linux/amd64 by default. */
  platform?: Platform;
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
  chunkSize?: number;
}

export interface TransferProgressEvent {
  digest: string;
  done: number;
  total: number;
}
export type TransferProgress = (event: TransferProgressEvent) => void;

/** Manifest bytes exactly as the registry served them, with their verified digest. */
export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** An image manifest for our platform, and the index(es) it was selected through. */
export interface ResolvedManifest extends FetchedManifest {
  manifest: ImageManifest;
  indexes: FetchedManifest[];
}

export interface BlobPushResult {
  digest: string;
  /** exists: the registry had it (HEAD); mounted: cross-repository mount; uploaded: sent. */
  action: "exists" | "mounted" | "uploaded";
  /** The status of the mount POST, when one was tried (201 means mounted). */
  mountStatus?: number;
  mountedFrom?: string;
}

export interface PushBlobOptions {
  /** Other repositories of the same registry known to hold the blob (tried as mounts). */
  mountFrom?: string[];
  onProgress?: TransferProgress;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_INDEX_DEPTH = 4;
const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** Speaks the OCI distribution API (Docker Registry HTTP API v2) to one or more registries. */
export class RegistryClient {
  readonly auth: RegistryAuthenticator;
  private readonly platform: Platform;
  private readonly chunkSize: number;
  private readonly plainHttp: (host: string) => boolean;

  constructor(options: RegistryClientOptions = {}) {
    this.auth = new RegistryAuthenticator(options.credentials ?? (async () => undefined));
    this.platform = options.platform ?? { os: "linux", architecture: "amd64" };
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.plainHttp = options.plainHttp ?? isLoopbackHost;
  }

  /** `https://host/v2/` (or http for plain-HTTP hosts). */
  baseUrl(host: string): URL {
    return new URL(`${this.plainHttp(host) ? "http" : "https"}://${host}/v2/`);
  }

  /**
   * Fetches the manifest a reference names; an index (or manifest list) is followed, through
   * nested indexes, to the manifest of the configured platform. Every manifest's digest is checked.
   */
  async getManifest(ref: ImageReference): Promise<ResolvedManifest> {
    const indexes: FetchedManifest[] = [];
    let target = manifestReference(ref);
    let expected: Descriptor | undefined;
    for (let depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
      const fetched = await this.getManifestBytes(ref, target, expected);
      if (isIndexMediaType(fetched.mediaType)) {
        indexes.push(fetched);
        const index = parseJson(imageIndexSchema, fetched, ref);
        const chosen = this.selectPlatform(index);
        if (!chosen) {
          const offered = index.manifests
            .map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : m.mediaType))
            .join(", ");
          throw new RegistryError(
            "NOT_FOUND",
            `pulling ${formatImageReference(ref)}: the image index has no ${this.platform.os}/${this.platform.architecture} manifest (it offers ${offered || "nothing"})`,
            { reference: formatImageReference(ref), digest: fetched.digest },
          );
        }
        target = chosen.digest;
        expected = chosen;
        continue;
      }
      if (!isManifestMediaType(fetched.mediaType)) {
        throw new RegistryError(
          "PROTOCOL",
          `pulling ${formatImageReference(ref)}: unsupported manifest type ${fetched.mediaType}; only OCI and Docker schema 2 images can be pulled`,
          { reference: formatImageReference(ref), mediaType: fetched.mediaType },
        );
      }
      return { ...fetched, manifest: parseJson(imageManifestSchema, fetched, ref), indexes };
    }
    throw new RegistryError(
      "PROTOCOL",
      `pulling ${formatImageReference(ref)}: image indexes nested more than ${MAX_INDEX_DEPTH} deep`,
      { reference: formatImageReference(ref) },
    );
  }

  /** One manifest (or index) by tag or digest, verified against `expected` and the registry's digest header. */
  async getManifestBytes(
    ref: ImageReference,
    target: string = manifestReference(ref),
    expected?: Pick<Descriptor, "digest" | "size">,
  ): Promise<FetchedManifest> {
    const where = `${ref.registry}/${ref.repository}${target.includes(":") ? "@" : ":"}${target}`;
    const what = { attempt: "fetching manifest", where };
    const res = await this.send(
      ref,
      [pullScope(ref.repository)],
      "GET",
      this.repoUrl(ref, `manifests/${target}`),
      { headers: { accept: MANIFEST_ACCEPT } },
      what,
    );
    if (res.status !== 200) throw await errorFromResponse(res, what.attempt, where, ref.registry);
    const length = Number(res.headers.get("content-length") ?? "0");
    if (length > MAX_MANIFEST_BYTES) {
      await discard(res);
      throw new RegistryError(
        "PROTOCOL",
        `fetching manifest ${where}: ${length} bytes is more than a manifest may be (${MAX_MANIFEST_BYTES})`,
        { ...what },
      );
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    const mismatch = (why: string) =>
      new RegistryError(
        "DIGEST_MISMATCH",
        `fetching manifest ${where}: its bytes hash to ${digest} but ${why}; the manifest was discarded — retry, and report it to the registry's operator if it persists`,
        { ...what, digest },
      );
    const wanted = expected?.digest ?? (target.startsWith("sha256:") ? target : undefined);
    if (wanted && wanted !== digest) throw mismatch(`${wanted} was asked for`);
    if (expected && expected.size !== bytes.length) {
      throw mismatch(`the index says ${expected.size} bytes, got ${bytes.length}`);
    }
    const header = res.headers.get("docker-content-digest");
    if (header?.startsWith("sha256:") && header !== digest) {
      throw mismatch(`the registry's Docker-Content-Digest says ${header}`);
    }
    return {
      bytes,
      digest,
      mediaType: detectManifestMediaType(bytes, res.headers.get("content-type")),
    };
  }

  /** Whether the repository has the blob (HEAD). */
  async blobExists(ref: ImageReference, digest: string, scopes?: string[]): Promise<boolean> {
    const where = `${ref.registry}/${ref.repository}@${digest}`;
    const what = { attempt: "checking for blob", where };
    const res = await this.send(
      ref,
      scopes ?? [pullScope(ref.repository)],
      "HEAD",
      this.repoUrl(ref, `blobs/${digest}`),
      {},
      what,
    );
    await discard(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await errorFromResponse(res, what.attempt, where, ref.registry);
  }

  /**
   * Opens a blob as a stream that verifies its digest and size while it flows: on a mismatch the
   * stream errors with DIGEST_MISMATCH instead of ending, so a sink using pipeline() keeps nothing.
   */
  async openBlob(
    ref: ImageReference,
    descriptor: Pick<Descriptor, "digest"> & { size?: number },
    onProgress?: TransferProgress,
  ): Promise<Readable> {
    const where = `${ref.registry}/${ref.repository}@${descriptor.digest}`;
    const what = { attempt: "downloading blob", where };
    const res = await this.send(
      ref,
      [pullScope(ref.repository)],
      "GET",
      this.repoUrl(ref, `blobs/${descriptor.digest}`),
      {},
      what,
    );
    if (res.status !== 200 || !res.body) {
      throw await errorFromResponse(res, what.attempt, where, ref.registry);
    }
    const total = descriptor.size ?? Number(res.headers.get("content-length") ?? "0");
    const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    return verifiedStream(body, descriptor.digest, {
      size: descriptor.size,
      where: `${ref.registry}/${ref.repository}`,
      onBytes: (done) => onProgress?.({ digest: descriptor.digest, done, total }),
    });
  }

  /** Streams a verified blob into `sink` (see openBlob); rejects on any mismatch or failure. */
  async getBlob(
    ref: ImageReference,
    descriptor: Pick<Descriptor, "digest"> & { size?: number },
    sink: NodeJS.WritableStream,
    onProgress?: TransferProgress,
  ): Promise<void> {
    await pipeline(await this.openBlob(ref, descriptor, onProgress), sink);
  }

  /**
   * Uploads a blob unless the repository has it: HEAD first, then a cross-repository mount from
   * any `mountFrom` repository, else a POST upload session sent as one PUT (blobs up to the chunk
   * size) or as PATCH chunks. `open` is called only if content must be sent.
   */
  async pushBlob(
    ref: ImageReference,
    descriptor: Pick<Descriptor, "digest" | "size">,
    open: () => Promise<NodeJS.ReadableStream> | NodeJS.ReadableStream,
    options: PushBlobOptions = {},
  ): Promise<BlobPushResult> {
    const { digest, size } = descriptor;
    const where = `${ref.registry}/${ref.repository}@${digest}`;
    const scopes = [pushScope(ref.repository)];
    const progress = (done: number) => options.onProgress?.({ digest, done, total: size });
    if (await this.blobExists(ref, digest, scopes)) {
      progress(size);
      return { digest, action: "exists" };
    }

    let location: URL | undefined;
    let mountStatus: number | undefined;
    for (const from of options.mountFrom ?? []) {
      if (from === ref.repository) continue;
      const what = { attempt: `mounting blob from ${from} into`, where };
      const url = this.repoUrl(ref, "blobs/uploads/");
      url.searchParams.set("mount", digest);
      url.searchParams.set("from", from);
      const res = await this.send(ref, [...scopes, pullScope(from)], "POST", url, {}, what);
      await discard(res);
      mountStatus = res.status;
      if (res.status === 201) {
        progress(size);
        return { digest, action: "mounted", mountStatus, mountedFrom: from };
      }
      if (res.status !== 202) throw await errorFromResponse(res, what.attempt, where, ref.registry);
      // 202: the registry could not mount and opened an ordinary upload session instead.
      location = this.uploadLocation(res, url, what);
      break;
    }

    if (!location) {
      const what = { attempt: "starting upload of blob", where };
      const url = this.repoUrl(ref, "blobs/uploads/");
      const res = await this.send(ref, scopes, "POST", url, {}, what);
      if (res.status !== 202) throw await errorFromResponse(res, what.attempt, where, ref.registry);
      await discard(res);
      location = this.uploadLocation(res, url, what);
    }

    const source = await open();
    const stream = verifiedStream(source as AsyncIterable<Uint8Array>, digest, {
      size,
      where: "the local store",
    });
    let sent = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const sendChunk = async (chunk: Buffer) => {
      const what = { attempt: "uploading chunk of blob", where };
      const res = await this.send(
        ref,
        scopes,
        "PATCH",
        location as URL,
        {
          headers: {
            "content-type": "application/octet-stream",
            "content-range": `${sent}-${sent + chunk.length - 1}`,
          },
          body: chunk,
        },
        what,
      );
      if (res.status !== 202) throw await errorFromResponse(res, what.attempt, where, ref.registry);
      await discard(res);
      location = this.uploadLocation(res, location as URL, what);
      sent += chunk.length;
      progress(sent);
    };
    let chunked = false;
    for await (const piece of stream as AsyncIterable<Buffer>) {
      pending.push(piece);
      pendingBytes += piece.length;
      while (size > this.chunkSize && pendingBytes >= this.chunkSize) {
        chunked = true;
        const all = Buffer.concat(pending);
        await sendChunk(all.subarray(0, this.chunkSize));
        pending = [all.subarray(this.chunkSize)];
        pendingBytes = all.length - this.chunkSize;
      }
    }
    let body: Buffer | undefined = Buffer.concat(pending);
    if (chunked && body.length > 0) {
      await sendChunk(body);
      body = undefined;
    } else if (chunked) {
      body = undefined;
    }

    const what = { attempt: "finishing upload of blob", where };
    const url = new URL(location);
    url.searchParams.set("digest", digest);
    const res = await this.send(
      ref,
      scopes,
      "PUT",
      url,
      body ? { headers: { "content-type": "application/octet-stream" }, body } : {},
      what,
    );
    if (res.status !== 201) throw await errorFromResponse(res, what.attempt, where, ref.registry);
    await discard(res);
    progress(size);
    return mountStatus === undefined
      ? { digest, action: "uploaded" }
      : { digest, action: "uploaded", mountStatus };
  }

  /** Uploads manifest bytes under the reference's tag (or digest); returns their digest. */
  async putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const target = ref.tag ?? ref.digest ?? digest;
    const where = `${ref.registry}/${ref.repository}${target.includes(":") ? "@" : ":"}${target}`;
    const what = { attempt: "uploading manifest", where };
    const res = await this.send(
      ref,
      [pushScope(ref.repository)],
      "PUT",
      this.repoUrl(ref, `manifests/${target}`),
      { headers: { "content-type": mediaType }, body: bytes },
      what,
    );
    if (res.status !== 201 && res.status !== 200) {
      throw await errorFromResponse(res, what.attempt, where, ref.registry);
    }
    await discard(res);
    const header = res.headers.get("docker-content-digest");
    if (header?.startsWith("sha256:") && header !== digest) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `uploading manifest ${where}: the registry stored ${header} but the bytes hash to ${digest}`,
        { ...what, digest },
      );
    }
    return digest;
  }

  /**
   * GET /v2/ with the registry's auth: resolves when the registry accepts the current
   * credentials (used by login), throws AUTH_FAILED when it refuses them.
   */
  async checkAccess(registry: string, host: string): Promise<void> {
    const ref = { registry, host, repository: "" };
    const what = { attempt: "logging in to", where: registry };
    const res = await this.send(ref, [], "GET", this.baseUrl(host), {}, what);
    await discard(res);
    if (res.status !== 200) throw await errorFromResponse(res, what.attempt, registry, registry);
  }

  private repoUrl(ref: ImageReference, rest: string): URL {
    return new URL(`${ref.repository}/${rest}`, this.baseUrl(ref.host));
  }

  private uploadLocation(res: Response, base: URL, what: Attempt): URL {
    const location = res.headers.get("location");
    if (!location) {
      throw new RegistryError(
        "PROTOCOL",
        `${what.attempt} ${what.where}: the registry opened an upload without a Location header`,
        { ...what },
      );
    }
    return new URL(location, base);
  }

  /** One request with the registry's auth: cached credentials first, one retry after a 401. */
  private async send(
    ref: Pick<ImageReference, "registry" | "host">,
    scopes: string[],
    method: string,
    url: URL,
    init: { headers?: Record<string, string>; body?: Buffer },
    what: Attempt,
  ): Promise<Response> {
    const request = { method, url, headers: init.headers, body: init.body };
    const sent = await this.auth.cached(ref.host, ref.registry, scopes);
    const res = await fetchFollowingRedirects({ ...request, authorization: sent }, what);
    if (res.status !== 401) return res;
    const challenge = res.headers.get("www-authenticate");
    const answer = await this.auth.answer(challenge, ref.host, ref.registry, scopes, sent, what);
    if (!answer) return res;
    await discard(res);
    return fetchFollowingRedirects({ ...request, authorization: answer }, what);
  }

  private selectPlatform(index: ImageIndex): Descriptor | undefined {
    const { os, architecture, variant } = this.platform;
    const matches = index.manifests.filter(
      (m) => m.platform?.os === os && m.platform.architecture === architecture,
    );
    const exact = matches.find((m) => variant === undefined || m.platform?.variant === variant);
    // A nested index without a platform of its own may hold ours.
    return (
      exact ??
      matches[0] ??
      index.manifests.find((m) => !m.platform && isIndexMediaType(m.mediaType))
    );
  }
}

function parseJson<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } },
  fetched: FetchedManifest,
  ref: ImageReference,
): T {
  let json: unknown;
  try {
    json = JSON.parse(fetched.bytes.toString("utf8"));
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new RegistryError(
      "PROTOCOL",
      `pulling ${formatImageReference(ref)}: manifest ${fetched.digest} (${fetched.mediaType}) is malformed: ${parsed.error.message}`,
      { reference: formatImageReference(ref), digest: fetched.digest },
    );
  }
  return parsed.data;
}
