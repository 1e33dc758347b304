import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { cniResultSchema } from "./cni/cni-result.ts";
import { networkConfigListSchema } from "./cni/network-list.ts";
import { assertContainerId } from "./container-id.ts";
import { portMappingSchema } from "./port-mappings.ts";

/**
 * What detach needs to undo an attachment, written before anything is created (phase
 * "attaching") and completed with the ADD result (phase "attached"). DEL must see the same config
 * ADD saw, so the rendered list is stored rather than re-rendered from a config that may change.
 */
export const attachmentRecordSchema = z.object({
  version: z.literal(1),
  containerId: z.string(),
  mode: z.enum(["bridge", "none"]),
  phase: z.enum(["attaching", "attached"]),
  netnsPath: z.string(),
  ifname: z.string(),
  list: networkConfigListSchema,
  portMappings: z.array(portMappingSchema),
  result: cniResultSchema.optional(),
});

export type AttachmentRecord = z.infer<typeof attachmentRecordSchema>;

/** Attachment records as JSON files under `<runRoot>/network/`: volatile, like the namespaces. */
export class AttachmentStore {
  private readonly dir: string;

  constructor(runRoot: string) {
    this.dir = path.join(runRoot, "network");
  }

  /** The record of `containerId`, or undefined when it has none. */
  read(containerId: string): AttachmentRecord | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.fileOf(containerId), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    const parsed = attachmentRecordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new RuntimeError(
        "INTERNAL",
        `network record ${this.fileOf(containerId)} is malformed: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  }

  /** Writes atomically (temp file, fsync, rename), so a crash leaves the old or the new record. */
  save(record: AttachmentRecord): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(record.containerId);
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(record));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }

  /** Deletes the record; nothing happens when there is none. */
  remove(containerId: string): void {
    fs.rmSync(this.fileOf(containerId), { force: true });
  }

  /** Every record, for the port-conflict check and for re-adoption after a restart. */
  list(): AttachmentRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    return names
      .filter((n) => n.endsWith(".json"))
      .map((n) => this.read(n.slice(0, -".json".length)))
      .filter((r): r is AttachmentRecord => r !== undefined);
  }

  private fileOf(containerId: string): string {
    assertContainerId(containerId);
    return path.join(this.dir, `${containerId}.json`);
  }
}
