// Resolves a path inside a root directory as if that directory were `/` (like filepath-securejoin).
// Plain ESM JavaScript so that both the engine (user lookup in the rootfs) and the zygote (mount
// targets in the container's merged root, through its Syscalls) run this one implementation.

const MAX_SYMLINKS = 40;

/**
 * The host path of `path` inside `root`: absolute links restart at `root`, and `..` never climbs
 * above it. `readlink(hostPath)` returns a symlink's target, or null for anything else (missing
 * components are kept as they are). Throws an Error with `code: "ELOOP"` after 40 links.
 */
export function resolveInRoot(root, path, readlink) {
  const base = `/${root
    .split("/")
    .filter((c) => c !== "" && c !== ".")
    .join("/")}`;
  let pending = path.split("/").filter((c) => c !== "" && c !== ".");
  const resolved = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift();
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const target = readlink(join(base, [...resolved, part]));
    if (target === null) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw Object.assign(new Error(`too many symlinks resolving ${path} in ${root}`), {
        code: "ELOOP",
      });
    }
    if (target.startsWith("/")) resolved.length = 0;
    pending = [...target.split("/").filter((c) => c !== "" && c !== "."), ...pending];
  }
  return join(base, resolved);
}

function join(base, parts) {
  if (parts.length === 0) return base;
  return base === "/" ? `/${parts.join("/")}` : `${base}/${parts.join("/")}`;
}
