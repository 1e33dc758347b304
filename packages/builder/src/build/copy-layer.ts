import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { TAR_END, tarHeader, tarPadding } from "@berth/runtime/tar-writer";
import type { DockerIgnore } from "../context/dockerignore.ts";
import { BuildError } from "./build-error.ts";

export interface CopyRequest {
  contextDir: string;
  ignore: DockerIgnore;
  /** Sources as written (expanded), relative to the context; globs `*` and `?` allowed. */
  sources: string[];
  /** Destination in the image, absolute (already joined with WORKDIR). */
  dest: string;
  chown?: { uid: number; gid: number };
  chmod?: number;
  line: number;
}

interface Planned {
  /** Path inside the image, without a leading slash. */
  target: string;
  /** Absolute host path in the context; undefined for a directory made to hold others. */
  source?: string;
  stat?: fs.Stats;
}

function globRegExp(pattern: string): RegExp {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`);
}

/** Context paths a COPY source names: itself, or the matches of its glob. */
function expandSource(req: CopyRequest, source: string): string[] {
  const rel = path.posix.normalize(source.replace(/^\/+/, "")).replace(/\/$/, "");
  if (rel.startsWith(".."))
    throw new BuildError(req.line, `COPY source ${source} is outside the build context`);
  if (!/[*?]/.test(rel)) return [rel === "." ? "" : rel];
  const parts = rel.split("/");
  let found = [""];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of found) {
      const full = path.join(req.contextDir, dir);
      if (!fs.statSync(full, { throwIfNoEntry: false })?.isDirectory()) continue;
      const re = globRegExp(part);
      for (const name of fs.readdirSync(full).sort()) {
        if (re.test(name)) next.push(dir === "" ? name : `${dir}/${name}`);
      }
    }
    found = next;
  }
  return found;
}

/** Every file, directory and symlink under a context path that .dockerignore lets through. */
function walk(req: CopyRequest, rel: string, into: string, out: Planned[]): void {
  const full = path.join(req.contextDir, rel);
  const st = fs.lstatSync(full);
  out.push({ target: into, source: full, stat: st });
  if (!st.isDirectory()) return;
  for (const name of fs.readdirSync(full).sort()) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    if (req.ignore.excludes(childRel) && !req.ignore.hasExceptions) continue;
    if (
      req.ignore.excludes(childRel) &&
      !fs.lstatSync(path.join(req.contextDir, childRel)).isDirectory()
    )
      continue;
    walk(req, childRel, `${into}/${name}`, out);
  }
}

/**
 * What COPY puts in the image, by Docker's rules: a directory source copies its contents, a file
 * goes to `dest` (or into it when `dest` ends with `/` or there are several sources); missing
 * parents of the destination are made. Returns the planned entries and a digest of their names,
 * modes and contents — the build cache's key (mtimes do not count).
 */
export function planCopy(req: CopyRequest): { entries: Planned[]; digest: string } {
  const sources = req.sources.flatMap((s) => {
    const matches = expandSource(req, s);
    if (matches.length === 0)
      throw new BuildError(req.line, `COPY failed: no source files were specified by ${s}`);
    return matches;
  });
  const destDir = req.dest.endsWith("/") || sources.length > 1;
  const dest = path.posix.normalize(req.dest).replace(/^\/+/, "").replace(/\/$/, "");
  const out: Planned[] = [];
  for (const rel of sources) {
    if (rel !== "" && req.ignore.excludes(rel)) {
      throw new BuildError(req.line, `COPY failed: ${rel} is excluded by .dockerignore`);
    }
    const full = path.join(req.contextDir, rel);
    const st = fs.lstatSync(full, { throwIfNoEntry: false });
    if (!st) throw new BuildError(req.line, `COPY failed: ${rel} not found in the build context`);
    if (st.isDirectory()) {
      const inner: Planned[] = [];
      walk(req, rel, dest, inner);
      out.push(
        ...inner
          .slice(dest === "" ? 1 : 0)
          .map((p, i) => (i === 0 && dest !== "" ? { target: dest } : p)),
      );
    } else {
      const target = destDir ? `${dest}/${path.posix.basename(rel)}` : dest;
      out.push({ target, source: full, stat: st });
    }
  }
  const hash = createHash("sha256");
  for (const p of out) {
    hash.update(`${p.target}\0${p.stat?.mode ?? "dir"}\0`);
    if (p.stat?.isFile() && p.source) hash.update(fs.readFileSync(p.source));
    if (p.stat?.isSymbolicLink() && p.source) hash.update(fs.readlinkSync(p.source));
  }
  hash.update(JSON.stringify({ dest: req.dest, chown: req.chown, chmod: req.chmod }));
  return { entries: out, digest: hash.digest("hex") };
}

/** The planned entries as an uncompressed layer tar, parents of the destination included. */
export function copyLayerTar(req: CopyRequest, entries: Planned[]): Readable {
  const owner = req.chown ?? { uid: 0, gid: 0 };
  async function* generate(): AsyncGenerator<Buffer> {
    const made = new Set<string>();
    const parents = (target: string) => {
      const parts = target.split("/").slice(0, -1);
      return parts
        .map((_, i) => parts.slice(0, i + 1).join("/"))
        .filter((d) => d !== "" && !made.has(d));
    };
    for (const e of entries) {
      if (e.target === "") continue;
      for (const dir of parents(e.target)) {
        made.add(dir);
        yield tarHeader({ name: `${dir}/`, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0 });
      }
      const st = e.stat;
      const mtime = st ? Math.floor(st.mtimeMs / 1000) : 0;
      if (!st || st.isDirectory()) {
        if (made.has(e.target)) continue;
        made.add(e.target);
        const mode = req.chmod ?? (st ? st.mode & 0o7777 : 0o755);
        yield tarHeader({ name: `${e.target}/`, type: "dir", mode, ...owner, mtime });
      } else if (st.isSymbolicLink()) {
        yield tarHeader({
          name: e.target,
          type: "symlink",
          mode: 0o777,
          ...owner,
          mtime,
          linkname: fs.readlinkSync(e.source as string),
        });
      } else if (st.isFile()) {
        const data = fs.readFileSync(e.source as string);
        yield tarHeader({
          name: e.target,
          type: "file",
          mode: req.chmod ?? st.mode & 0o7777,
          ...owner,
          mtime,
          size: data.length,
        });
        yield data;
        yield tarPadding(data.length);
      }
    }
    yield TAR_END;
  }
  return Readable.from(generate());
}
