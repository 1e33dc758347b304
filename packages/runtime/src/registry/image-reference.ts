import { z } from "zod";
import { RegistryError } from "./registry-error.ts";

/** Docker Hub's name in references, and the host that actually serves its API. */
export const DOCKER_HUB = "docker.io";
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

// The grammar of github.com/distribution/reference, re-expressed.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export const imageReferenceSchema = z.object({
  /** Registry as written in references (`docker.io`, `127.0.0.1:5000`); keys credentials. */
  registry: z.string().regex(DOMAIN, "registry must be a host name with an optional port"),
  /** host[:port] whose /v2/ API serves this registry. */
  host: z.string().regex(DOMAIN),
  /** Repository path inside the registry, `library/` added for Docker Hub's official images. */
  repository: z
    .string()
    .max(255, "repository name must be at most 255 characters")
    .refine(
      (r) => r.split("/").every((c) => PATH_COMPONENT.test(c)),
      "repository path components must be lowercase letters, digits and separators (. _ __ -)",
    ),
  tag: z
    .string()
    .regex(TAG, "tag must be 1-128 of [A-Za-z0-9_.-], not starting with . or -")
    .optional(),
  digest: z.string().regex(DIGEST, "digest must be sha256:<64 hex> or sha512:<128 hex>").optional(),
});

export type ImageReference = z.infer<typeof imageReferenceSchema>;

function invalid(input: string, why: string): RegistryError {
  return new RegistryError("INVALID_REFERENCE", `invalid image reference "${input}": ${why}`, {
    reference: input,
  });
}

/**
 * Parses `busybox`, `library/busybox:1.36`, `127.0.0.1:5000/app/web:tag`, `name@sha256:…` like
 * Docker does: a first component with `.` or `:` (or `localhost`) is a registry, otherwise Docker
 * Hub; a reference with neither tag nor digest means `:latest`.
 */
export function parseImageReference(input: string): ImageReference {
  const text = input.trim();
  if (text === "") throw invalid(input, "it is empty");
  if (/\s/.test(text)) throw invalid(input, "it contains whitespace");

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
  }
  if (rest === "") throw invalid(input, "the repository name is missing");

  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  const hasRegistry =
    slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = hasRegistry ? first : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === "index.docker.io" || registry === DOCKER_HUB_API_HOST) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (repository !== repository.toLowerCase()) {
    throw invalid(input, "repository names must be lowercase");
  }
  if (tag === undefined && digest === undefined) tag = "latest";

  const parsed = imageReferenceSchema.safeParse({
    registry,
    host: registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry,
    repository,
    tag,
    digest,
  });
  if (!parsed.success) {
    throw invalid(input, parsed.error.issues.map((i) => i.message).join("; "));
  }
  return parsed.data;
}

/** Tag or digest to use in `/v2/<name>/manifests/<reference>`; the digest wins when both exist. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** The fully qualified form: `docker.io/library/busybox:1.36@sha256:…`. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The same repository at another tag or digest. */
export function withTarget(
  ref: ImageReference,
  target: { tag?: string; digest?: string },
): ImageReference {
  return imageReferenceSchema.parse({ ...ref, tag: target.tag, digest: target.digest });
}

/** Loopback registries are spoken to over plain HTTP (as Docker allows); every other over HTTPS. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}
