import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { writeFileAtomic } from "../storage/durable-file.ts";
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

/**
 * Named and anonymous volumes: directories under `<root>/volumes/<name>/_data` that outlive the
 * containers mounting them, each with a `volume.json` written atomically. Whether a volume is in
 * use is the engine's knowledge (its containers' mounts), passed in where it matters.
 */
export class VolumeStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, "volumes");
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

  /**
   * Creates a volume (an existing one of the same name is returned as it is, as Docker does);
   * `created` tells whether it is new — a new, empty volume gets the image's content copied in.
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
    // volume.json last: a volume exists once its record does.
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
  remove(name: string, usedBy: string[] = []): void {
    this.inspect(name);
    if (usedBy.length > 0) {
      throw new RuntimeError(
        "CONFLICT",
        `volume ${name} is in use by container ${usedBy.map((id) => id.slice(0, 12)).join(", ")}: remove the container first`,
        { name },
      );
    }
    // The record goes first (atomically): a crash midway leaves data without a record, which
    // list() ignores and the next remove of the same name clears.
    const dir = path.join(this.dir, name);
    const doomed = `${dir}.removing-${process.pid}-${Date.now()}`;
    fs.renameSync(dir, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  }

  /** Bytes under a volume's data directory (for prune's report). */
  sizeOf(name: string): number {
    let total = 0;
    const walk = (p: string) => {
      const st = fs.lstatSync(p);
      total += st.isDirectory() ? 0 : st.size;
      if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
    };
    walk(this.dataDir(name));
    return total;
  }
}
