/**
 * Every registry failure is a RegistryError: a stable code for programs and a message that says
 * what was attempted, on which reference, what the registry answered, and what to do next.
 */
export type RegistryErrorCode =
  | "INVALID_REFERENCE"
  | "AUTH_FAILED"
  | "NOT_FOUND"
  | "RATE_LIMITED"
  | "DIGEST_MISMATCH"
  | "NETWORK"
  | "PROTOCOL";

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the registry said in its `{"errors":[{code,message}]}` body, if anything. */
interface RegistryErrorBody {
  codes: string[];
  text: string;
}

async function readErrorBody(res: Response): Promise<RegistryErrorBody> {
  let raw = "";
  try {
    raw = (await res.text()).slice(0, 4096);
  } catch {
    return { codes: [], text: "" };
  }
  try {
    const parsed = JSON.parse(raw) as { errors?: { code?: unknown; message?: unknown }[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      const codes = parsed.errors.map((e) => String(e.code ?? "UNKNOWN"));
      const text = parsed.errors
        .map((e) => `${e.code ?? "UNKNOWN"}: ${e.message ?? ""}`)
        .join("; ");
      return { codes, text };
    }
  } catch {
    // Not JSON: keep the first line of text as the registry's message.
  }
  return { codes: [], text: raw.split("\n")[0]?.trim() ?? "" };
}

const NOT_FOUND_CODES = new Set(["MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN"]);

/**
 * Maps an unexpected registry response to a RegistryError.
 * @param attempt what was being done, e.g. "fetching manifest"
 * @param where the reference it was done on, e.g. "127.0.0.1:5000/app/web:1"
 */
export async function errorFromResponse(
  res: Response,
  attempt: string,
  where: string,
  registryHost: string,
): Promise<RegistryError> {
  const body = await readErrorBody(res);
  const said = `${res.status}${res.statusText ? ` ${res.statusText}` : ""}${body.text ? `: ${body.text}` : ""}`;
  const context = { attempt, reference: where, status: res.status, registryCodes: body.codes };
  if (res.status === 401 || res.status === 403) {
    return new RegistryError(
      "AUTH_FAILED",
      `${attempt} ${where} was refused by the registry (${said}); run \`berth login ${registryHost}\` with an account that may access this repository`,
      context,
    );
  }
  if (res.status === 429 || body.codes.includes("TOOMANYREQUESTS")) {
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
    return new RegistryError(
      "RATE_LIMITED",
      `${attempt} ${where} was rate limited by the registry (${said}); retry ${retryAfter === undefined ? "later" : `after ${retryAfter} s`}, or log in to get a higher limit`,
      { ...context, retryAfterSeconds: retryAfter },
    );
  }
  if (res.status === 404 || body.codes.some((c) => NOT_FOUND_CODES.has(c))) {
    return new RegistryError(
      "NOT_FOUND",
      `${attempt} ${where} failed: not found (${said}); check the repository name, tag and digest`,
      context,
    );
  }
  if (body.codes.includes("DIGEST_INVALID")) {
    return new RegistryError(
      "DIGEST_MISMATCH",
      `${attempt} ${where} failed: the registry computed a different digest (${said}); the local content is corrupt`,
      context,
    );
  }
  return new RegistryError(
    "PROTOCOL",
    `${attempt} ${where} got an unexpected response (${said}); check that ${registryHost} speaks the OCI distribution API`,
    context,
  );
}

/** Retry-After is either seconds or an HTTP date; returns whole seconds from now. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** A fetch() rejection (connection refused, DNS, reset) as a NETWORK error naming host:port. */
export function networkError(
  error: unknown,
  attempt: string,
  where: string,
  url: URL,
): RegistryError {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return new RegistryError(
    "NETWORK",
    `${attempt} ${where}: could not talk to ${url.hostname}:${port} (${why}); check that the registry is running and reachable`,
    { attempt, reference: where, host: `${url.hostname}:${port}`, errno: cause?.code },
    { cause: error },
  );
}
