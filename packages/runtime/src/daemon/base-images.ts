import type { DaemonSettings } from "./daemon-control.ts";
import { daemonPaths } from "./daemon-files.ts";
import { EngineClient } from "./engine-client.ts";

/** What `berth up` makes sure the store has, so that builds and add-ons never wait on a registry. */
export const DEFAULT_BASE_IMAGES = ["busybox", "debian:bookworm"] as const;

/**
 * Bootstraps each base image the running daemon's store lacks (busybox from Debian's
 * busybox-static, Debian with debootstrap; both cached under /var/cache/berth), passing each
 * progress line on. Resolves with the images' references and whether they were already there.
 */
export async function ensureBaseImages(
  settings: Pick<DaemonSettings, "runRoot" | "logDir">,
  names: readonly string[],
  onLine: (line: string) => void,
): Promise<{ ref: string; present: boolean }[]> {
  const client = new EngineClient(daemonPaths(settings.runRoot, settings.logDir).socket);
  const results: { ref: string; present: boolean }[] = [];
  for (const name of names) {
    let present = false;
    let ref = name;
    await client.imageTransfer("bootstrap", { name }, (e) => {
      if (e.type === "status") {
        if (e.message.endsWith("already present")) present = true;
        else onLine(e.message);
      } else if (e.type === "done") ref = e.ref;
    });
    results.push({ ref, present });
  }
  return results;
}
