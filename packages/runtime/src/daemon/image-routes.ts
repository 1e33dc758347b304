import fs from "node:fs";
import type http from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { RuntimeConfig } from "../config.ts";
import type { Engine } from "../engine/engine.ts";
import { RuntimeError } from "../errors.ts";
import { loadImages } from "../image/archive-load.ts";
import { saveImages } from "../image/archive-save.ts";
import { bootstrapImage } from "../image/bootstrap.ts";
import { containerConfigSchema } from "../image/oci-schemas.ts";
import { StoreTransfer, storeNameOf } from "../image/store-transfer.ts";
import { parseImageReference } from "../registry/image-reference.ts";
import { BlobLocations, pullImage, pushImage } from "../registry/image-transfer.ts";
import type { TransferProgressEvent } from "../registry/registry-client.ts";
import { clientWithStoredCredentials } from "../registry/registry-login.ts";
import type { Handler } from "./engine-server.ts";
import { sendJson, toApiError } from "./http-errors.ts";
import { ndjsonHead, readJson, writeEvent } from "./http-io.ts";
import {
  bootstrapRequestSchema,
  configureRequestSchema,
  derivedQuerySchema,
  type ImageEvent,
  imagePruneQuerySchema,
  imageRemoveQuerySchema,
  importRequestSchema,
  pullRequestSchema,
  pushRequestSchema,
  saveRequestSchema,
  tagQuerySchema,
} from "./image-api-schema.ts";

/**
 * The daemon's image routes: thin handlers over the engine's image store. Transfers stream
 * NDJSON progress; the daemon is the one process that writes the store, and it knows which images
 * containers use.
 */
export function imageRoutes(engine: Engine, config: RuntimeConfig): Record<string, Handler> {
  const images = engine.images;
  // Where blobs are known to be, for the daemon's lifetime: pushes mount them across repositories.
  const locations = new BlobLocations();
  const inUse = (id: string) => engine.imagesInUse().has(id);
  return {
    "GET /v1/images": async ({ res }) => sendJson(res, 200, images.list()),
    "GET /v1/images/:ref": async ({ res, ref }) => sendJson(res, 200, images.inspect(ref)),
    "GET /v1/images/:ref/history": async ({ res, ref }) => sendJson(res, 200, images.history(ref)),
    "POST /v1/images/:ref/tag": async ({ res, ref, query }) => {
      const { target } = tagQuerySchema.parse(query);
      await images.tag(ref, target);
      sendJson(res, 201, { source: ref, target });
    },
    "DELETE /v1/images/:ref": async ({ res, ref, query }) => {
      const { force } = imageRemoveQuerySchema.parse(query);
      sendJson(res, 200, await images.rm(ref, { force, inUse }));
    },
    "POST /v1/images/prune": async ({ res, query }) => {
      const { all } = imagePruneQuerySchema.parse(query);
      const untagged: string[] = [];
      if (all) {
        // -a: every image no container uses goes, not only untagged ones (docker image prune -a).
        for (const img of images.list()) {
          if (inUse(img.id)) continue;
          for (const tag of img.tags) untagged.push(...(await images.rm(tag, { inUse })).untagged);
        }
      }
      sendJson(res, 200, { untagged, ...(await images.prune({ inUse })) });
    },
    "POST /v1/images/pull": async ({ req, res }) => {
      const { ref } = pullRequestSchema.parse(await readJson(req));
      const parsed = parseImageReference(ref);
      await streamEvents(res, async (send) => {
        const client = clientWithStoredCredentials(config);
        const result = await pullImage(client, parsed, new StoreTransfer(images), {
          onProgress: progressSender(send, "Downloading"),
          locations,
        });
        for (const b of result.blobs) {
          send({
            type: "layer",
            id: b.digest,
            status: b.action === "present" ? "Already exists" : "Download complete",
          });
        }
        const name = storeNameOf(parsed);
        const img = images.resolve(name);
        send({ type: "status", message: `Unpacking ${img.manifest.layers.length} layers` });
        await images.ensureSnapshots(img);
        send({ type: "done", id: img.id, digest: result.digest, ref: name });
      });
    },
    "POST /v1/images/push": async ({ req, res }) => {
      const { ref } = pushRequestSchema.parse(await readJson(req));
      const img = images.resolve(ref);
      const parsed = parseImageReference(ref);
      await streamEvents(res, async (send) => {
        const client = clientWithStoredCredentials(config);
        const result = await pushImage(
          client,
          parsed,
          new StoreTransfer(images),
          img.manifestDigest,
          {
            onProgress: progressSender(send, "Pushing"),
          },
        );
        for (const b of result.blobs) {
          const status =
            b.action === "exists"
              ? "Layer already exists"
              : b.action === "mounted"
                ? `Mounted from ${b.mountedFrom}`
                : "Pushed";
          send({ type: "layer", id: b.digest, status });
        }
        send({ type: "done", id: img.id, digest: result.digest, ref: result.reference });
      });
    },
    "POST /v1/images/import": async ({ req, res }) => {
      const body = importRequestSchema.parse(await readJson(req));
      const runConfig = containerConfigSchema.parse(body.config ?? {});
      const st = fs.statSync(body.source, { throwIfNoEntry: false });
      if (!st)
        throw new RuntimeError(
          "NOT_FOUND",
          `cannot import ${body.source}: no such file or directory`,
        );
      const opts = {
        tag: body.tag,
        config: runConfig,
        createdBy: `berth image import ${body.source}`,
      };
      const img = st.isDirectory()
        ? await images.importDirectory(body.source, opts)
        : await images.importTar(fs.createReadStream(body.source), opts);
      sendJson(res, 201, { id: img.id, ref: img.tags[0] ?? body.tag });
    },
    // Build steps: one more layer from a tar body, or a new run config (ref "scratch": no parent).
    "POST /v1/images/:ref/append": async ({ req, res, ref, query }) => {
      const q = derivedQuerySchema.parse(query);
      const parent = ref === "scratch" ? undefined : images.resolve(ref);
      const image = await images.appendLayer(parent, req, {
        tag: q.tag,
        config: parent?.config.config ?? {},
        createdBy: q.createdBy,
      });
      sendJson(res, 201, { id: image.id, ref: q.tag });
    },
    "POST /v1/images/:ref/configure": async ({ req, res, ref }) => {
      const body = configureRequestSchema.parse(await readJson(req));
      const parent = ref === "scratch" ? undefined : images.resolve(ref);
      const config = containerConfigSchema.parse(body.config);
      const image = await images.withConfig(parent, {
        tag: body.tag,
        config,
        createdBy: body.createdBy,
      });
      sendJson(res, 201, { id: image.id, ref: body.tag });
    },
    "POST /v1/images/save": async ({ req, res }) => {
      const { refs, format } = saveRequestSchema.parse(await readJson(req));
      // Resolved before the first byte: an unknown image is a plain error answer, not a cut tar.
      const list = refs.map((ref) => {
        const image = images.resolve(ref);
        const tag = image.tags.includes(ref)
          ? ref
          : (image.tags.find((t) => t === `${ref}:latest`) ?? image.tags[0] ?? ref);
        return { image, tag };
      });
      res.writeHead(200, { "content-type": "application/x-tar" });
      await pipeline(Readable.from(saveImages(images, list, format)), res);
    },
    "POST /v1/images/load": async ({ req, res }) => {
      const loaded = await loadImages(images, req);
      sendJson(res, 201, { loaded });
    },
    "POST /v1/images/bootstrap": async ({ req, res }) => {
      const { name } = bootstrapRequestSchema.parse(await readJson(req));
      await streamEvents(res, async (send) => {
        const { image, cached } = await bootstrapImage(images, name, {
          onProgress: (message: string) => send({ type: "status", message }),
        });
        send({
          type: "done",
          id: image.id,
          ref: image.tags[0] ?? name,
          ...(cached ? { digest: image.manifestDigest } : {}),
        });
      });
    },
  };
}

/** Answers NDJSON events; a failure becomes the stream's last event, `error`. */
async function streamEvents(
  res: http.ServerResponse,
  work: (send: (e: ImageEvent) => void) => Promise<void>,
): Promise<void> {
  ndjsonHead(res);
  const send = (e: ImageEvent) => writeEvent(res, e);
  try {
    await work(send);
  } catch (e) {
    send({ type: "error", ...toApiError(e).body });
  }
  res.end();
}

/** Progress events, at most every 100 ms per blob (plus its last), so a fast pull is not all events. */
function progressSender(
  send: (e: ImageEvent) => void,
  action: "Downloading" | "Pushing",
): (e: TransferProgressEvent) => void {
  const last = new Map<string, number>();
  return (e) => {
    const now = Date.now();
    if (e.done < e.total && now - (last.get(e.digest) ?? 0) < 100) return;
    last.set(e.digest, now);
    send({ type: "progress", id: e.digest, action, done: e.done, total: e.total });
  };
}
