// Executes a start plan (see start-plan.ts) against a Syscalls. Plain ESM JavaScript so that the
// zygote runs the very code the unit tests run with the recording fake. A plan is JSON: values that
// JSON cannot carry are tagged — {ref: name} (a value saved by an earlier step, e.g. an fd),
// {big: "0x…"} (a 64-bit mask), {bytes: base64} (a BPF program).
import { resolveInRoot } from "../spec/resolve-in-root.mjs";

const MS_RDONLY = 1;
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MS_REMOUNT = 32;
const MS_BIND = 4096;
const MS_REC = 16384;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;

function decode(arg, saved) {
  if (Array.isArray(arg)) return arg.map((a) => decode(a, saved));
  if (arg === null || typeof arg !== "object") return arg;
  if ("ref" in arg) {
    if (!(arg.ref in saved)) throw new Error(`start plan refers to unknown value ${arg.ref}`);
    return saved[arg.ref];
  }
  if ("big" in arg) return BigInt(arg.big);
  if ("bytes" in arg) return new Uint8Array(Buffer.from(arg.bytes, "base64"));
  return arg;
}

/** Docker's masked paths: a read-only empty tmpfs over a directory, /dev/null over a file. */
function maskPath(sys, path) {
  const kind = sys.statKind(path);
  if (kind === "missing") return;
  if (kind === "dir") sys.mount("tmpfs", path, "tmpfs", MS_RDONLY, null);
  else sys.mount("/dev/null", path, null, MS_BIND, null);
}

/** Docker's read-only paths: bind the path onto itself, then remount that bind read-only. */
function readonlyPath(sys, path) {
  if (sys.statKind(path) === "missing") return;
  sys.mount(path, path, null, MS_BIND | MS_REC, null);
  const flags = MS_BIND | MS_REC | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  sys.mount(path, path, null, flags, null);
}

/** mkdir -p below `root` of a host path resolved in it (so no component is a symlink). */
function mkdirAll(sys, root, hostPath, mode = 0o755) {
  const parts = hostPath
    .slice(root.length)
    .split("/")
    .filter((p) => p !== "");
  for (let i = 1; i <= parts.length; i++) {
    try {
      sys.mkdir(`${root}/${parts.slice(0, i).join("/")}`, mode);
    } catch (e) {
      if (e?.errnoName !== "EEXIST") throw e;
    }
  }
}

/** `path` of the container (absolute) as a host path inside `root`, symlinks resolved in it. */
function inRoot(sys, root, path) {
  return resolveInRoot(root, path, (p) => sys.readlink(p));
}

/** mkdir -p of a container path, e.g. the working directory. */
function mkdirInRoot(sys, root, path) {
  mkdirAll(sys, root, inRoot(sys, root, path));
}

/**
 * One OCI mount at `destination` resolved inside `root` now, in the container's own mount
 * namespace before anything of the container runs (so nothing can swap a component meanwhile).
 * The mount point is created: a directory, or an empty file for a bind of a file. `remount` flags
 * are applied to a bind by a second mount (MS_REMOUNT|MS_BIND), `propagation` by a third.
 */
function mountInRoot(sys, root, destination, source, fstype, flags, data, remount, propagation) {
  const target = inRoot(sys, root, destination);
  const bind = (flags & MS_BIND) !== 0;
  if (bind && sys.statKind(source) !== "dir") {
    mkdirAll(sys, root, target.slice(0, target.lastIndexOf("/")));
    if (sys.statKind(target) === "missing") {
      sys.close(sys.open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644));
    }
  } else {
    mkdirAll(sys, root, target);
  }
  sys.mount(source, target, fstype, flags, data);
  if (remount) sys.mount(source, target, null, MS_BIND | MS_REMOUNT | remount, null);
  if (propagation) sys.mount(null, target, null, propagation, null);
}

const MACROS = { maskPath, readonlyPath, mountInRoot, mkdirInRoot };

/**
 * Runs the steps in order and returns the saved values. A step whose error's errno name is in
 * its `ignore` list is skipped (mkdir of an existing mountpoint). Any other failure is rethrown
 * with `step` (its index) attached; the caller's process, and so its namespaces and mounts, dies.
 */
export function runPlan(sys, steps, saved = {}) {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    try {
      const args = decode(step.args, saved);
      const macro = MACROS[step.call];
      const result = macro ? macro(sys, ...args) : sys[step.call](...args);
      if (step.save) saved[step.save] = result;
    } catch (e) {
      if (step.ignore?.includes(e?.errnoName)) continue;
      if (e && typeof e === "object") e.step = i;
      throw e;
    }
  }
  return saved;
}
