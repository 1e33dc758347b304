import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { fsyncPath, writeFileAtomic } from "../storage/durable-file.ts";
import { VOLUME_NAME_PATTERN } from "./volume-names.ts";

const volumeRecordSchema = z.object({
  Name: z.string().regex(VOLUME_NAME_PATTERN),
  Driver: z.literal("local"),
  CreatedAt: z.string(),
  Labels: z.record(z.string(), z.string()),
  /** Made for one container (`-v /path`, an image's VOLUME); `--rm` and `rm -v` remove it. */
  Anonymous: z.boolean(),
});

/** A volume as `volume inspect` shows it. */
export interface VolumeInfo extends z.infer<typeof volumeRecordSchema> {
  Mountpoint: string;
  Scope: "local";
}

/** Volumes being deleted are renamed to this prefix first; a leading '.' is never a volume name. */
const REMOVING_PREFIX = ".removing-";

/**
 * Named and anonymous volumes: directories under `<root>/volumes/<name>/_data` that outlive the
 * containers mounting them, each with a `volume.json` written atomically. Whether a volume is in
 * use is the engine's knowledge (its containers' mounts), passed in where it matters.
 */
export class VolumeStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, "volumes");
    this.finishInterruptedRemovals();
  }

  static validName(name: string): string {
    if (!VOLUME_NAME_PATTERN.test(name)) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `invalid volume name ${JSON.stringify(name)}: use letters, digits, '_', '.' or '-', starting with a letter or digit (2 characters at least)`,
        { name },
      );
    }
    return name;
  }

  dataDir(name: string): string {
    return path.join(this.dir, VolumeStore.validName(name), "_data");
  }

  exists(name: string): boolean {
    return fs.existsSync(path.join(this.dir, VolumeStore.validName(name), "volume.json"));
  }

  /** True when nothing is in the volume's data directory (then an image's content is copied in). */
  isEmpty(name: string): boolean {
    return fs.readdirSync(this.dataDir(name)).length === 0;
  }

  /**
   * Creates a volume (an existing one of the same name is returned as it is, as Docker does);
   * `created` tells whether it is new. Without a name, an anonymous volume with a random 64-hex
   * name is made — what `-v /path` and an image's VOLUME get.
   */
  create(
    name?: string,
    options: { labels?: Record<string, string>; anonymous?: boolean } = {},
  ): { volume: VolumeInfo; created: boolean } {
    const anonymous = name === undefined || (options.anonymous ?? false);
    const volumeName = VolumeStore.validName(name ?? randomBytes(32).toString("hex"));
    if (this.exists(volumeName)) return { volume: this.inspect(volumeName), created: false };
    const record = {
      Name: volumeName,
      Driver: "local" as const,
      CreatedAt: new Date().toISOString(),
      Labels: options.labels ?? {},
      Anonymous: anonymous,
    };
    fs.mkdirSync(path.join(this.dir, volumeName, "_data"), { recursive: true, mode: 0o755 });
    fsyncPath(this.dir);
    // volume.json last: a volume exists once its record does (a directory without one, left by a
    // crash, is ignored by list() and taken over by the next create of that name).
    writeFileAtomic(
      path.join(this.dir, volumeName, "volume.json"),
      `${JSON.stringify(record, null, 2)}\n`,
    );
    return { volume: this.inspect(volumeName), created: true };
  }

  inspect(name: string): VolumeInfo {
    const file = path.join(this.dir, VolumeStore.validName(name), "volume.json");
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new RuntimeError("NOT_FOUND", `no such volume: ${name}`, { name });
      }
      throw e;
    }
    const record = volumeRecordSchema.parse(JSON.parse(text));
    return { ...record, Mountpoint: this.dataDir(name), Scope: "local" };
  }

  list(): VolumeInfo[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter(
        (n) => VOLUME_NAME_PATTERN.test(n) && fs.existsSync(path.join(this.dir, n, "volume.json")),
      )
      .sort()
      .map((n) => this.inspect(n));
  }

  /** Deletes a volume and its data; `usedBy` lists containers mounting it (then it is refused). */
  remove(name: string, usedBy: readonly string[] = []): void {
    this.inspect(name);
    if (usedBy.length > 0) {
      throw new RuntimeError(
        "CONFLICT",
        `cannot remove volume ${name}: volume is in use - [${usedBy.join(", ")}]; remove ${usedBy.length === 1 ? "that container" : "those containers"} first`,
        { name, usedBy },
      );
    }
    // One rename takes the record and the data out of the namespace at once; a crash while the
    // data is deleted leaves a dot-directory that the next store start finishes removing.
    const doomed = path.join(
      this.dir,
      `${REMOVING_PREFIX}${name}-${randomBytes(4).toString("hex")}`,
    );
    fs.renameSync(path.join(this.dir, name), doomed);
    fsyncPath(this.dir);
    fs.rmSync(doomed, { recursive: true, force: true });
  }

  /** Bytes under a volume's data directory (for prune's report); symlinks are not followed. */
  sizeOf(name: string): number {
    let total = 0;
    const walk = (p: string) => {
      const st = fs.lstatSync(p);
      if (!st.isDirectory()) {
        total += st.size;
        return;
      }
      for (const n of fs.readdirSync(p)) walk(path.join(p, n));
    };
    walk(this.dataDir(name));
    return total;
  }

  private finishInterruptedRemovals(): void {
    if (!fs.existsSync(this.dir)) return;
    for (const n of fs.readdirSync(this.dir)) {
      if (n.startsWith(REMOVING_PREFIX)) {
        fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
      }
    }
  }
}
