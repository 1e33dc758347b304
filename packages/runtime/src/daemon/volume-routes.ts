import { z } from "zod";
import type { Engine } from "../engine/engine.ts";
import type { Handler } from "./engine-server.ts";
import { sendJson } from "./http-errors.ts";
import { readJson } from "./http-io.ts";

const createSchema = z.strictObject({
  name: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
});
const flag = z
  .enum(["1", "0", "true", "false"])
  .optional()
  .transform((v) => v === "1" || v === "true");
const pruneQuerySchema = z.object({ all: flag });

/** The daemon's volume routes; the engine knows which containers mount which volume. */
export function volumeRoutes(engine: Engine): Record<string, Handler> {
  const volumes = engine.volumes;
  return {
    "GET /v1/volumes": async ({ res }) => {
      const used = engine.volumesInUse();
      sendJson(
        res,
        200,
        volumes.list().map((v) => ({ ...v, UsedBy: used.get(v.Name) ?? [] })),
      );
    },
    "POST /v1/volumes": async ({ req, res }) => {
      const body = createSchema.parse(await readJson(req));
      const { volume } = volumes.create(body.name, { labels: body.labels });
      sendJson(res, 201, volume);
    },
    "GET /v1/volumes/:ref": async ({ res, ref }) => sendJson(res, 200, volumes.inspect(ref)),
    "DELETE /v1/volumes/:ref": async ({ res, ref }) => {
      volumes.remove(ref, engine.volumesInUse().get(ref) ?? []);
      sendJson(res, 200, { name: ref });
    },
    "POST /v1/volumes/prune": async ({ res, query }) => {
      // Anonymous volumes nobody mounts; with all, named ones too (docker volume prune -a).
      const { all } = pruneQuerySchema.parse(query);
      const used = engine.volumesInUse();
      const removed: string[] = [];
      let bytes = 0;
      for (const v of volumes.list()) {
        if (used.has(v.Name) || (!v.Anonymous && !all)) continue;
        bytes += volumes.sizeOf(v.Name);
        volumes.remove(v.Name);
        removed.push(v.Name);
      }
      sendJson(res, 200, { removed, bytesFreed: bytes });
    },
  };
}
