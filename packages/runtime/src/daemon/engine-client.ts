import http from "node:http";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ContainerState } from "../container/container-state.ts";
import type { ContainerStats } from "../engine/container-stats.ts";
import type { ExitResult } from "../engine/engine.ts";
import { RuntimeError, type RuntimeErrorCode } from "../errors.ts";
import type { ImageInspect, ImageSummary, PruneResult } from "../image/image-store.ts";
import type { ContainerConfig, HistoryEntry } from "../image/oci-schemas.ts";
import type { VolumeInfo } from "../volume/volume-store.ts";
import type { CreateRequest, StreamEvent } from "./api-schema.ts";
import type { ImageEvent } from "./image-api-schema.ts";

/** The daemon's socket is missing or nobody listens on it. */
export class EngineUnavailableError extends Error {
  override readonly name = "EngineUnavailableError";
}

/**
 * A client of the engine daemon's API over its unix socket. Errors the daemon reports come back as
 * RuntimeError with the daemon's code and message.
 */
export class EngineClient {
  constructor(readonly socketPath: string) {}

  ping(): Promise<{ pid: number }> {
    return this.json("GET", "/v1/ping");
  }

  list(all = false): Promise<ContainerState[]> {
    return this.json("GET", `/v1/containers${all ? "?all=1" : ""}`);
  }

  inspect(ref: string): Promise<ContainerState> {
    return this.json("GET", `/v1/containers/${enc(ref)}`);
  }

  /** Creates (and, unless `start: false`, starts) a container; resolves with its state. */
  create(request: CreateRequest): Promise<ContainerState> {
    return this.json("POST", "/v1/containers", { ...request, attach: false });
  }

  /** Runs a container attached: `onEvent` gets "created", each "log" line, then "exit". */
  runAttached(request: CreateRequest, onEvent: (e: StreamEvent) => void): Promise<void> {
    return this.stream("POST", "/v1/containers", { ...request, attach: true }, onEvent);
  }

  start(ref: string): Promise<ContainerState> {
    return this.json("POST", `/v1/containers/${enc(ref)}/start`);
  }

  stop(ref: string, timeoutSec?: number): Promise<ContainerState> {
    const q = timeoutSec === undefined ? "" : `?t=${timeoutSec}`;
    return this.json("POST", `/v1/containers/${enc(ref)}/stop${q}`);
  }

  kill(ref: string, signal?: string): Promise<{ id: string }> {
    const q = signal === undefined ? "" : `?signal=${encodeURIComponent(signal)}`;
    return this.json("POST", `/v1/containers/${enc(ref)}/kill${q}`);
  }

  wait(ref: string): Promise<ExitResult> {
    return this.json("POST", `/v1/containers/${enc(ref)}/wait`);
  }

  remove(ref: string, force = false, volumes = false): Promise<{ id: string }> {
    const q = new URLSearchParams({
      ...(force ? { force: "1" } : {}),
      ...(volumes ? { v: "1" } : {}),
    });
    return this.json("DELETE", `/v1/containers/${enc(ref)}${q.size > 0 ? `?${q}` : ""}`);
  }

  volumes(): Promise<(VolumeInfo & { UsedBy: string[] })[]> {
    return this.json("GET", "/v1/volumes");
  }

  createVolume(name: string | undefined, labels: Record<string, string>): Promise<VolumeInfo> {
    return this.json("POST", "/v1/volumes", { ...(name ? { name } : {}), labels });
  }

  inspectVolume(name: string): Promise<VolumeInfo> {
    return this.json("GET", `/v1/volumes/${enc(name)}`);
  }

  removeVolume(name: string): Promise<{ name: string }> {
    return this.json("DELETE", `/v1/volumes/${enc(name)}`);
  }

  pruneVolumes(all = false): Promise<{ removed: string[]; bytesFreed: number }> {
    return this.json("POST", `/v1/volumes/prune${all ? "?all=1" : ""}`);
  }

  /** Streams log lines; with `follow`, until the container exits or `signal` aborts. */
  logs(
    ref: string,
    options: { follow?: boolean; tail?: number; since?: string; signal?: AbortSignal },
    onEvent: (e: StreamEvent) => void,
  ): Promise<void> {
    const q = new URLSearchParams();
    if (options.follow) q.set("follow", "1");
    if (options.tail !== undefined) q.set("tail", String(options.tail));
    if (options.since !== undefined) q.set("since", options.since);
    const path = `/v1/containers/${enc(ref)}/logs?${q}`;
    return this.stream("GET", path, undefined, onEvent, options.signal);
  }

  /** `container commit`: the container's changes as a new image. */
  commit(
    ref: string,
    request: {
      tag: string;
      changes?: string[];
      comment?: string;
      author?: string;
      pause?: boolean;
      config?: ContainerConfig;
    },
  ): Promise<{ id: string; ref: string }> {
    return this.json("POST", `/v1/containers/${enc(ref)}/commit`, request);
  }

  images(): Promise<ImageSummary[]> {
    return this.json("GET", "/v1/images");
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.json("GET", `/v1/images/${enc(ref)}`);
  }

  imageHistory(ref: string): Promise<HistoryEntry[]> {
    return this.json("GET", `/v1/images/${enc(ref)}/history`);
  }

  tagImage(source: string, target: string): Promise<unknown> {
    return this.json("POST", `/v1/images/${enc(source)}/tag?target=${enc(target)}`);
  }

  removeImage(ref: string, force = false): Promise<{ untagged: string[]; bytesFreed: number }> {
    return this.json("DELETE", `/v1/images/${enc(ref)}${force ? "?force=1" : ""}`);
  }

  pruneImages(all = false): Promise<PruneResult & { untagged: string[] }> {
    return this.json("POST", `/v1/images/prune${all ? "?all=1" : ""}`);
  }

  importImage(request: {
    source: string;
    tag: string;
    config?: ContainerConfig;
  }): Promise<{ id: string; ref: string }> {
    return this.json("POST", "/v1/images/import", request);
  }

  /** `image save`: the archive's bytes into `out`. */
  async saveImages(
    refs: string[],
    format: "docker-archive" | "oci-archive",
    out: NodeJS.WritableStream,
  ): Promise<void> {
    const res = await this.send("POST", "/v1/images/save", { refs, format });
    if ((res.statusCode ?? 500) >= 400) throw apiError(await readAll(res), res.statusCode ?? 500);
    await pipeline(res, out);
  }

  /** `image load`: streams an archive to the daemon. */
  loadImages(archive: NodeJS.ReadableStream): Promise<{ loaded: { id: string; tag: string }[] }> {
    return this.upload("/v1/images/load", archive);
  }

  /** A build step's layer: `tar` (uncompressed) on top of `parent` ("scratch" for none). */
  appendLayer(
    parent: string,
    tar: NodeJS.ReadableStream,
    tag: string,
    createdBy: string,
  ): Promise<{ id: string; ref: string }> {
    const q = new URLSearchParams({ tag, createdBy });
    return this.upload(`/v1/images/${enc(parent)}/append?${q}`, tar);
  }

  /** A build step's new run config on `parent`'s layers. */
  configureImage(
    parent: string,
    body: { tag: string; config: ContainerConfig; createdBy: string },
  ): Promise<{ id: string; ref: string }> {
    return this.json("POST", `/v1/images/${enc(parent)}/configure`, body);
  }

  /** A request whose body is a stream (a tar), answered with JSON. */
  private upload<T>(pathAndQuery: string, body: NodeJS.ReadableStream): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          method: "POST",
          path: pathAndQuery,
          headers: { "content-type": "application/x-tar" },
        },
        async (res) => {
          const text = await readAll(res);
          if ((res.statusCode ?? 500) >= 400) reject(apiError(text, res.statusCode ?? 500));
          else resolve(JSON.parse(text) as T);
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT" || e.code === "ECONNREFUSED") {
          reject(
            new EngineUnavailableError(`the engine daemon is not running at ${this.socketPath}`),
          );
        } else reject(e);
      });
      body.on("error", (e: Error) => req.destroy(e));
      body.pipe(req);
    });
  }

  /** pull, push or bootstrap, with their progress events. */
  imageTransfer(
    action: "pull" | "push" | "bootstrap",
    body: { ref: string } | { name: string },
    onEvent: (e: ImageEvent) => void,
  ): Promise<void> {
    return this.stream<ImageEvent>("POST", `/v1/images/${action}`, body, onEvent);
  }

  /** CPU, memory and pids of a running container (two samples when none is recent). */
  stats(ref: string): Promise<ContainerStats> {
    return this.json("GET", `/v1/containers/${enc(ref)}/stats`);
  }

  /**
   * Opens an interactive session (exec, or run with -i/-t): a connection upgraded from HTTP that
   * carries frames (session-frames.ts) both ways. `head` holds bytes that came with the upgrade.
   */
  openSession(path: string, options: unknown): Promise<{ socket: Duplex; head: Buffer }> {
    const q = new URLSearchParams({ options: JSON.stringify(options) });
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        method: "GET",
        path: `${path}?${q}`,
        headers: { connection: "Upgrade", upgrade: "berth-session" },
      });
      req.on("upgrade", (_res, socket, head) => resolve({ socket, head }));
      req.on("response", async (res) =>
        reject(apiError(await readAll(res), res.statusCode ?? 500)),
      );
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT" || e.code === "ECONNREFUSED") {
          reject(
            new EngineUnavailableError(`the engine daemon is not running at ${this.socketPath}`),
          );
        } else reject(e);
      });
      req.end();
    });
  }

  /** One JSON request and its JSON answer. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 400) throw apiError(text, res.statusCode ?? 500);
    return JSON.parse(text) as T;
  }

  /** A request answered with NDJSON events; an `error` event is thrown as a RuntimeError. */
  async stream<E extends { type: string } = StreamEvent>(
    method: string,
    path: string,
    body: unknown,
    onEvent: (e: E) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const res = await this.send(method, path, body, signal);
    if ((res.statusCode ?? 500) >= 400) throw apiError(await readAll(res), res.statusCode ?? 500);
    res.setEncoding("utf8");
    let partial = "";
    let failure: RuntimeError | undefined;
    await new Promise<void>((resolve, reject) => {
      res.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (line === "") continue;
          const event = JSON.parse(line) as E | { type: "error"; code: string; message: string };
          if (event.type === "error") {
            const { code, message } = event as { code: string; message: string };
            failure = new RuntimeError(code as RuntimeErrorCode, message);
          } else onEvent(event as E);
        }
      });
      res.on("end", resolve);
      res.on("close", resolve);
      res.on("error", (e) => (signal?.aborted ? resolve() : reject(e)));
    });
    if (failure) throw failure;
  }

  private send(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: data
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) }
            : {},
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT" || e.code === "ECONNREFUSED") {
          reject(
            new EngineUnavailableError(`the engine daemon is not running at ${this.socketPath}`),
          );
        } else reject(e);
      });
      req.end(data);
    });
  }
}

function enc(ref: string): string {
  return encodeURIComponent(ref);
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

function apiError(text: string, status: number): RuntimeError {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return new RuntimeError(
      (body.code ?? "INTERNAL") as RuntimeErrorCode,
      body.message ?? `engine answered ${status}`,
    );
  } catch {
    return new RuntimeError("INTERNAL", `engine answered ${status}: ${text.slice(0, 200)}`);
  }
}
