import fs from "node:fs";
import path from "node:path";
import type { ContainerState } from "./container-state.ts";

/**
 * Container state files: root/containers/<id>/state.json, replaced atomically (write a temp file,
 * fsync it, rename over the old one) so that a crash leaves the old or the new state, never half.
 */
export class StateStore {
  /** Per-container chain of pending writes: saves happen in order, off the start path. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(readonly containersDir: string) {}

  /**
   * Queues an atomic write and returns at once; the fsync runs on libuv's pool, so it costs the
   * start path nothing. Await `flush` before depending on the file (removal, shutdown).
   */
  saveLater(state: ContainerState): void {
    const snapshot = JSON.stringify(state, null, 2);
    const prev = this.pending.get(state.id) ?? Promise.resolve();
    const next = prev
      .then(() => this.writeAtomic(state.id, snapshot))
      .catch((e) => {
        // A failed write must not block later ones; the next save rewrites the whole state.
        process.emitWarning(`saving state of container ${state.id}: ${(e as Error).message}`);
      });
    this.pending.set(state.id, next);
    void next.then(() => {
      if (this.pending.get(state.id) === next) this.pending.delete(state.id);
    });
  }

  /** Waits for the queued writes of one container, or of all. */
  async flush(id?: string): Promise<void> {
    if (id !== undefined) await this.pending.get(id);
    else await Promise.all(this.pending.values());
  }

  private async writeAtomic(id: string, text: string): Promise<void> {
    const file = path.join(this.dir(id), "state.json");
    const tmp = `${file}.tmp`;
    const fh = await fs.promises.open(tmp, "w", 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  }

  dir(id: string): string {
    return path.join(this.containersDir, id);
  }

  save(state: ContainerState): void {
    const file = path.join(this.dir(state.id), "state.json");
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(state, null, 2));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }

  load(id: string): ContainerState | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), "state.json"), "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  /** Every container with a readable state file. */
  loadAll(): ContainerState[] {
    let ids: string[];
    try {
      ids = fs.readdirSync(this.containersDir);
    } catch {
      return [];
    }
    return ids.flatMap((id) => {
      const s = /^[0-9a-f]{64}$/.test(id) ? this.load(id) : undefined;
      return s ? [s] : [];
    });
  }
}
