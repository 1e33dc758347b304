import type http from "node:http";
import { ZodError } from "zod";
import { RuntimeError, type RuntimeErrorCode } from "../errors.ts";
import { RegistryError, type RegistryErrorCode } from "../registry/registry-error.ts";
import type { ApiError } from "./api-schema.ts";

const STATUS: Record<RuntimeErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE: 409,
  COMMAND_NOT_FOUND: 422,
  SYSCALL_FAILED: 500,
  CGROUP_FAILED: 500,
  NETWORK_FAILED: 500,
  INTERNAL: 500,
};

const REGISTRY_STATUS: Record<RegistryErrorCode, number> = {
  INVALID_REFERENCE: 400,
  AUTH_FAILED: 401,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  DIGEST_MISMATCH: 502,
  NETWORK: 502,
  PROTOCOL: 502,
};

/** The one mapping from thrown errors to HTTP status + `{ code, message }`. */
export function toApiError(error: unknown): { status: number; body: ApiError } {
  if (error instanceof RegistryError) {
    return {
      status: REGISTRY_STATUS[error.code],
      body: { code: error.code, message: error.message },
    };
  }
  if (error instanceof RuntimeError) {
    return {
      status: STATUS[error.code] ?? 500,
      body: { code: error.code, message: error.message },
    };
  }
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return {
      status: 400,
      body: { code: "INVALID_ARGUMENT", message: `${where}${issue?.message ?? "invalid request"}` },
    };
  }
  if (error instanceof SyntaxError) {
    return { status: 400, body: { code: "INVALID_ARGUMENT", message: "request body is not JSON" } };
  }
  return {
    status: 500,
    body: { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) },
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: http.ServerResponse, error: unknown): void {
  const { status, body } = toApiError(error);
  if (res.headersSent) {
    // Mid-stream: the error becomes the stream's last event.
    res.end(`${JSON.stringify({ type: "error", ...body })}\n`);
    return;
  }
  sendJson(res, status, body);
}
