import fs from "node:fs";
import path from "node:path";

interface Pattern {
  /** The cleaned pattern text, for messages. */
  text: string;
  negate: boolean;
  regex: RegExp;
}

/** A `.dockerignore` pattern as a regular expression over slash-separated relative paths. */
function compile(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        // `**` spans directories; `**/` also matches no directory at all.
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0)
        throw new Error(`unterminated [ in .dockerignore pattern ${JSON.stringify(pattern)}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (ch === "\\" && i + 1 < pattern.length) {
      re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Lexically cleans a path pattern like Go's filepath.Clean, without a leading slash. */
function clean(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/**
 * `.dockerignore` rules with Docker's semantics: patterns relative to the context root (a leading
 * `/` changes nothing), `*`, `?`, `[…]`, `**` across directories, `!` to re-include, comments and
 * blank lines ignored, the last matching pattern deciding. A pattern that matches a directory
 * matches everything under it.
 */
export class DockerIgnore {
  private readonly patterns: Pattern[];

  constructor(text: string) {
    this.patterns = [];
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const negate = line.startsWith("!");
      const body = clean((negate ? line.slice(1) : line).trim());
      if (body === "") continue;
      this.patterns.push({ text: body, negate, regex: compile(body) });
    }
  }

  /** Whether any `!` pattern exists: then excluded directories must still be looked into. */
  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.negate);
  }

  /** Whether `rel` (a slash-separated path relative to the context) is left out. */
  excludes(rel: string): boolean {
    const parts = clean(rel).split("/");
    let excluded = false;
    for (const p of this.patterns) {
      // A pattern matches the path itself or any directory above it.
      let hit = false;
      for (let n = parts.length; n >= 1 && !hit; n--)
        hit = p.regex.test(parts.slice(0, n).join("/"));
      if (hit) excluded = !p.negate;
    }
    return excluded;
  }
}

/**
 * The ignore rules for a build: `<Dockerfile>.dockerignore` beside the Dockerfile wins over the
 * context's `.dockerignore`; none of either means nothing is left out.
 */
export function readDockerIgnore(contextDir: string, dockerfile: string): DockerIgnore {
  for (const file of [`${dockerfile}.dockerignore`, path.join(contextDir, ".dockerignore")]) {
    if (fs.existsSync(file)) return new DockerIgnore(fs.readFileSync(file, "utf8"));
  }
  return new DockerIgnore("");
}

/**
 * The files, directories and symlinks of the context a build may read, sorted, relative and
 * slash-separated. Symlinks are listed, never followed, so nothing outside the context is
 * reached; an excluded directory is skipped whole unless a `!` pattern may re-include something
 * under it.
 */
export function contextEntries(contextDir: string, ignore: DockerIgnore): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const dir = path.join(contextDir, rel);
    for (const name of fs.readdirSync(dir).sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(contextDir, childRel));
      const excluded = ignore.excludes(childRel);
      if (st.isDirectory()) {
        if (excluded && !ignore.hasExceptions) continue;
        if (!excluded) out.push(childRel);
        walk(childRel);
      } else if (!excluded) out.push(childRel);
    }
  };
  walk("");
  return out;
}
