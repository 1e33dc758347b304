import { RuntimeError } from "../errors.ts";

/**
 * Image references as the store names them: `[host[:port]/]path[:tag]`, tag defaulting to
 * `latest`, kept in that normalised form in index.json's `org.opencontainers.image.ref.name`
 * (one store holds many repositories, so the annotation carries the full name, as containerd's
 * does). `name@sha256:…` and bare image/manifest ID prefixes are resolved by the store.
 */
const NAME_RE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface ParsedRef {
  name: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ParsedRef {
  const bad = (why: string) =>
    new RuntimeError("INVALID_ARGUMENT", `invalid image reference ${JSON.stringify(ref)}: ${why}`);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw bad("bad digest");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad("bad tag");
  }
  if (rest.length > 255 || !NAME_RE.test(rest)) throw bad("bad name");
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `busybox` → `busybox:latest`; refuses digest references (a tag is needed). */
export function normalizeTag(ref: string): string {
  const p = parseImageRef(ref);
  if (p.digest) {
    throw new RuntimeError("INVALID_ARGUMENT", `${ref} is a digest reference, not a tag`);
  }
  return `${p.name}:${p.tag ?? "latest"}`;
}

/** True for `sha256:<hex…>` or a bare hex prefix of at least 4 characters (an ID). */
export function looksLikeId(ref: string): boolean {
  return /^(sha256:)?[a-f0-9]{4,64}$/.test(ref);
}
