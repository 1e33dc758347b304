import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { RuntimeError } from "../errors.ts";
import { type ApplyLayerOptions, applyLayer } from "./layer-apply.ts";

/**
 * Unpacked layers, one directory per layer *chain* (`<images>/snapshots/<chainID hex>/`), shared by
 * every image whose layers start with that chain. A snapshot is built in a `.tmp-*` sibling, its
 * diffID checked, the filesystem synced (`sync -f`, i.e. syncfs), then renamed into place: a
 * directory named by a chainID is always complete. Leftover temp dirs of a crash are removed by
 * prune.
 */

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)) (OCI config spec). */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    const prev = out[out.length - 1];
    out.push(
      prev === undefined
        ? d
        : `sha256:${createHash("sha256").update(`${prev} ${d}`).digest("hex")}`,
    );
  }
  return out;
}

export class SnapshotStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  pathFor(chainID: string): string {
    return path.join(this.dir, chainID.replace(/^sha256:/, ""));
  }

  has(chainID: string): boolean {
    return fs.existsSync(this.pathFor(chainID));
  }

  /** chainIDs of every complete snapshot. */
  list(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  }

  /**
   * Unpacks `blob` as the snapshot `chainID` on top of `lowerChainIDs` (topmost first), unless it
   * exists. Throws (leaving nothing behind) when the unpacked diffID is not `diffID`.
   */
  async create(
    chainID: string,
    diffID: string,
    lowerChainIDs: readonly string[],
    blob: () => AsyncIterable<Uint8Array>,
    opts: Omit<ApplyLayerOptions, "lowerDirs">,
  ): Promise<string> {
    const final = this.pathFor(chainID);
    if (fs.existsSync(final)) return final;
    const tmp = fs.mkdtempSync(path.join(this.dir, `.tmp-${process.pid}-`));
    try {
      fs.chmodSync(tmp, 0o755);
      const lowerDirs = lowerChainIDs.map((c) => this.pathFor(c));
      const result = await applyLayer(tmp, blob(), { ...opts, lowerDirs });
      if (result.diffID !== diffID) {
        throw new RuntimeError(
          "INVALID_ARGUMENT",
          `layer diffID mismatch: the image config says ${diffID}, the layer unpacks to ${result.diffID}`,
          { expected: diffID, actual: result.diffID },
        );
      }
      execFileSync("sync", ["-f", tmp]);
      try {
        fs.renameSync(tmp, final);
      } catch (e) {
        // Another process finished the same snapshot first; theirs is identical.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      return final;
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Removes a snapshot; returns the bytes it held (apparent sizes of its files). */
  remove(chainID: string): number {
    const p = this.pathFor(chainID);
    const bytes = diskUsage(p);
    // Rename first so that a crash mid-delete never leaves a partial dir under a chainID name.
    const doomed = path.join(this.dir, `.tmp-rm-${process.pid}-${path.basename(p)}`);
    if (!fs.existsSync(p)) return 0;
    fs.renameSync(p, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
    return bytes;
  }

  /** Temp dirs of dead builders (crash leftovers), with their sizes. */
  removeStaleTemps(isAlive: (pid: number) => boolean): number {
    let bytes = 0;
    for (const n of fs.readdirSync(this.dir)) {
      const m = /^\.tmp-(?:rm-)?(\d+)-/.exec(n);
      if (!m || isAlive(Number(m[1]))) continue;
      const p = path.join(this.dir, n);
      bytes += diskUsage(p);
      fs.rmSync(p, { recursive: true, force: true });
    }
    return bytes;
  }
}

/** Sum of regular files' sizes under `p` (hardlinks counted once). */
export function diskUsage(p: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (q: string): void => {
    const st = fs.lstatSync(q, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(q)) walk(path.join(q, n));
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    total += st.size;
  };
  walk(p);
  return total;
}
