import type { ImageEvent } from "../daemon/image-api-schema.ts";
import { decimalBytes } from "./container-format.ts";

/**
 * Shows pull/push/bootstrap progress as Docker does in spirit: one line per blob once it is done
 * ("a1b2c3d4e5f6: Download complete"), status lines as they come, and — on a terminal — a single
 * line that is rewritten with the bytes moved so far (nothing of it lands in a log file).
 */
export function progressPrinter(out: NodeJS.WritableStream & { isTTY?: boolean }, quiet: boolean) {
  const moving = new Map<string, { done: number; total: number; action: string }>();
  let live = false;
  let lastDraw = 0;
  const clear = () => {
    if (live) out.write("\r\x1b[2K");
    live = false;
  };
  const say = (text: string) => {
    if (quiet) return;
    clear();
    out.write(`${text}\n`);
  };
  return {
    event(e: ImageEvent): void {
      if (e.type === "progress") {
        moving.set(e.id, { done: e.done, total: e.total, action: e.action });
        if (quiet || !out.isTTY || Date.now() - lastDraw < 100) return;
        lastDraw = Date.now();
        let done = 0;
        let total = 0;
        for (const m of moving.values()) {
          done += m.done;
          total += m.total;
        }
        const action = e.action === "Pushing" ? "Pushing" : "Downloading";
        clear();
        out.write(`${action} ${moving.size} blobs: ${decimalBytes(done)} / ${decimalBytes(total)}`);
        live = true;
      } else if (e.type === "layer") {
        moving.delete(e.id);
        say(`${e.id.replace(/^sha256:/, "").slice(0, 12)}: ${e.status}`);
      } else if (e.type === "status") {
        say(e.message);
      }
    },
    end(): void {
      clear();
    },
  };
}
