import { networkError, RegistryError } from "./registry-error.ts";

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** Buffers only, so that a request can be replayed after an auth challenge or a redirect. */
  body?: Buffer;
  /** Sent to the request's own origin only, never to a host a redirect points at. */
  authorization?: string;
}

/** Describes a request in error messages: "fetching manifest" + "127.0.0.1:5000/app:1". */
export interface Attempt {
  attempt: string;
  where: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/**
 * fetch() with redirects followed by hand: Authorization goes to the original origin only (a blob
 * redirect to a CDN or S3 must not receive registry credentials).
 */
export async function fetchFollowingRedirects(req: HttpRequest, what: Attempt): Promise<Response> {
  const origin = req.url.origin;
  let url = req.url;
  let method = req.method;
  let body = req.body;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { ...req.headers };
    if (req.authorization && url.origin === origin) headers.authorization = req.authorization;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body && method !== "GET" && method !== "HEAD" ? body : undefined,
        redirect: "manual",
      });
    } catch (error) {
      throw networkError(error, what.attempt, what.where, url);
    }
    const location = res.headers.get("location");
    if (!REDIRECTS.has(res.status) || !location) return res;
    await res.body?.cancel();
    url = new URL(location, url);
    if (res.status === 303 && method !== "HEAD") {
      method = "GET";
      body = undefined;
    }
  }
  throw new RegistryError(
    "PROTOCOL",
    `${what.attempt} ${what.where}: more than ${MAX_REDIRECTS} redirects, last to ${url.origin}; the registry is misconfigured`,
    { ...what },
  );
}

/** Reads and discards a response body so that the connection can be reused. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Already consumed or closed.
  }
}
