import http from "node:http";
import type { RuntimeConfig } from "../config.ts";
import { containerPaths } from "../container/container-paths.ts";
import type { Engine } from "../engine/engine.ts";
import { containerConfigSchema } from "../image/oci-schemas.ts";
import {
  commitRequestSchema,
  createRequestSchema,
  killQuerySchema,
  listQuerySchema,
  logsQuerySchema,
  removeQuerySchema,
  stopQuerySchema,
} from "./api-schema.ts";
import { sendError, sendJson } from "./http-errors.ts";
import { abortOnClose, ndjsonHead, readJson, writeEvent } from "./http-io.ts";
import { imageRoutes } from "./image-routes.ts";
import { tailLogs } from "./log-tail.ts";
import { handleSessionUpgrade } from "./session-server.ts";
import { signalName } from "./signal-name.ts";
import { volumeRoutes } from "./volume-routes.ts";

export type Handler = (ctx: {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  query: Record<string, string>;
  ref: string;
}) => Promise<void>;

/**
 * The daemon's HTTP API over its unix socket: thin handlers that validate, make one engine call
 * and shape the result. Every thrown error becomes `{ code, message }` with a status (http-errors).
 */
export function createEngineServer(
  engineReady: Engine | Promise<Engine>,
  config: RuntimeConfig,
): http.Server {
  // The socket is bound before the engine exists (the socket is the daemon's lock); requests that
  // arrive meanwhile wait for it.
  const ready = Promise.resolve(engineReady);
  const listener = ready.then((engine) => handlersFor(engine, config));
  listener.catch(() => {});
  const server = http.createServer((req, res) => {
    listener.then(
      (handle) => handle(req, res),
      (e: unknown) => sendError(res, e),
    );
  });
  server.on("upgrade", (req, socket, head) => {
    ready.then(
      (engine) => handleSessionUpgrade(engine, config, req, socket, head),
      () => socket.destroy(),
    );
  });
  return server;
}

function handlersFor(engine: Engine, config: RuntimeConfig): http.RequestListener {
  const routes: Record<string, Handler> = {
    "GET /v1/ping": async ({ res }) => sendJson(res, 200, { pid: process.pid }),
    "GET /v1/containers": async ({ res, query }) => {
      const { all } = listQuerySchema.parse(query);
      sendJson(res, 200, engine.list({ all }));
    },
    "POST /v1/containers": async ({ req, res }) => create(req, res),
    "GET /v1/containers/:ref": async ({ res, ref }) => sendJson(res, 200, engine.inspect(ref)),
    "DELETE /v1/containers/:ref": async ({ res, ref, query }) => {
      const { force, v } = removeQuerySchema.parse(query);
      const id = engine.inspect(ref).id;
      await engine.remove(id, { force, volumes: v });
      sendJson(res, 200, { id });
    },
    "POST /v1/containers/:ref/start": async ({ res, ref }) =>
      sendJson(res, 200, await engine.start(ref)),
    "POST /v1/containers/:ref/stop": async ({ res, ref, query }) => {
      const { t } = stopQuerySchema.parse(query);
      sendJson(res, 200, await engine.stop(ref, t));
    },
    "POST /v1/containers/:ref/kill": async ({ res, ref, query }) => {
      const { signal } = killQuerySchema.parse(query);
      await engine.kill(ref, signalName(signal ?? "SIGKILL"));
      sendJson(res, 200, { id: engine.inspect(ref).id });
    },
    "POST /v1/containers/:ref/wait": async ({ res, ref }) =>
      sendJson(res, 200, await engine.wait(ref)),
    "GET /v1/containers/:ref/logs": async ({ req, res, ref, query }) => {
      const q = logsQuerySchema.parse(query);
      const s = engine.inspect(ref);
      const until = q.follow && s.status === "running" ? engine.wait(s.id) : undefined;
      until?.catch(() => {});
      ndjsonHead(res);
      const abort = abortOnClose(req, res);
      await tailLogs(
        {
          file: containerPaths(config, s.id).log,
          maxFiles: config.logMaxFiles,
          ...(q.tail !== undefined ? { tail: q.tail } : {}),
          ...(q.since !== undefined ? { since: new Date(q.since) } : {}),
          ...(until ? { until } : {}),
          signal: abort.signal,
        },
        (l) => writeEvent(res, { type: "log", ...l }),
      );
      res.end();
    },
    "POST /v1/containers/:ref/commit": async ({ req, res, ref }) => {
      const { config, ...body } = commitRequestSchema.parse(await readJson(req));
      const image = await engine.commit(ref, {
        ...body,
        ...(config ? { config: containerConfigSchema.parse(config) } : {}),
      });
      sendJson(res, 201, { id: image.id, ref: body.tag });
    },
    "GET /v1/containers/:ref/stats": async ({ res, ref }) =>
      sendJson(res, 200, await engine.stats(ref)),
    ...imageRoutes(engine, config),
    ...volumeRoutes(engine),
  };

  async function create(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = createRequestSchema.parse(await readJson(req));
    const { options } = body;
    // An attached --rm container is removed here once its output is drained, not by the engine.
    const runOptions = { ...options, rm: (options.rm ?? false) && !body.attach };
    if (!body.start) return sendJson(res, 201, await engine.create(runOptions));
    if (!body.attach) return sendJson(res, 201, await engine.run(runOptions));
    const created = await engine.create(runOptions);
    try {
      await engine.start(created.id);
    } catch (e) {
      await engine.remove(created.id, { force: true }).catch(() => {});
      throw e;
    }
    const exited = engine.wait(created.id);
    const removed = options.rm
      ? exited.finally(() =>
          // --rm takes the container's anonymous volumes with it, as docker's does.
          engine.remove(created.id, { force: true, volumes: true }).catch(() => {}),
        )
      : exited;
    removed.catch(() => {});
    ndjsonHead(res);
    writeEvent(res, { type: "created", id: created.id, name: created.name });
    const abort = abortOnClose(req, res);
    await tailLogs(
      {
        file: containerPaths(config, created.id).log,
        maxFiles: config.logMaxFiles,
        until: exited,
        signal: abort.signal,
      },
      (l) => writeEvent(res, { type: "log", ...l }),
    );
    const exit = await exited;
    await removed.catch(() => {}); // like docker run --rm: the command ends once it is gone
    writeEvent(res, { type: "exit", ...exit });
    res.end();
  }

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://engine");
    const exact = routes[`${req.method ?? "GET"} ${url.pathname}`];
    const match = exact
      ? { key: `${req.method ?? "GET"} ${url.pathname}`, ref: "" }
      : route(req.method ?? "GET", url.pathname);
    const handler = match && routes[match.key];
    if (!match || !handler) {
      sendJson(res, 404, { code: "NOT_FOUND", message: `no route ${req.method} ${url.pathname}` });
      return;
    }
    const query = Object.fromEntries(url.searchParams);
    handler({ req, res, query, ref: match.ref }).catch((e) => sendError(res, e));
  };
}

/** Collections whose members are named in the path: /v1/<collection>/<ref>[/<action>]. */
const COLLECTIONS = new Set(["containers", "images", "volumes"]);

function route(method: string, pathname: string): { key: string; ref: string } | undefined {
  const parts = pathname.split("/").filter((p) => p !== "");
  if (parts[0] !== "v1") return undefined;
  if (parts.length <= 2) return { key: `${method} /${parts.join("/")}`, ref: "" };
  const collection = parts[1]!;
  if (!COLLECTIONS.has(collection) || parts.length > 4) return undefined;
  const ref = decodeURIComponent(parts[2]!);
  const rest = parts.length === 4 ? `/${parts[3]}` : "";
  return { key: `${method} /v1/${collection}/:ref${rest}`, ref };
}
