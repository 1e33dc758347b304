import type http from "node:http";
import { RuntimeError } from "../errors.ts";

const MAX_BODY = 1024 * 1024;

/** A JSON request body (at most 1 MiB); `{}` when empty. */
export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RuntimeError("INVALID_ARGUMENT", "request body too large");
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

export function ndjsonHead(res: http.ServerResponse): void {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.flushHeaders();
}

export function writeEvent(res: http.ServerResponse, event: object): void {
  if (!res.writableEnded) res.write(`${JSON.stringify(event)}\n`);
}

/** Aborts when the client goes away before the response is finished. */
export function abortOnClose(req: http.IncomingMessage, res: http.ServerResponse): AbortController {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  req.on("error", () => abort.abort());
  return abort;
}
