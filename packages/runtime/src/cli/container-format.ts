import type { ContainerState } from "../container/container-state.ts";

/** The 12-hex short form of a container ID, as Docker shows it. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** Docker's units.HumanDuration: "Less than a second", "3 seconds", "About a minute", … */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(m / 60);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

const since = (iso: string | null, now: number) =>
  iso === null ? 0 : Math.max(0, now - Date.parse(iso));

/** "Up 3 seconds (healthy)", "Exited (137) 2 seconds ago (OOMKilled)", "Created". */
export function statusText(s: ContainerState, now = Date.now()): string {
  if (s.status === "running") {
    const h = s.health?.status;
    const health = h === undefined ? "" : h === "starting" ? " (health: starting)" : ` (${h})`;
    return `Up ${humanDuration(since(s.startedAt, now))}${health}`;
  }
  if (s.status === "exited") {
    const oom = s.oomKilled ? " (OOMKilled)" : "";
    return `Exited (${s.exitCode ?? "?"}) ${humanDuration(since(s.finishedAt, now))} ago${oom}`;
  }
  return "Created";
}

/** The container's command, from whichever option shape the engine keeps it in. */
export function commandOf(s: ContainerState): string[] {
  const o = s.options as unknown as { args?: unknown; command?: unknown };
  const argv = Array.isArray(o.command) ? o.command : Array.isArray(o.args) ? o.args : [];
  return argv.map(String);
}

/** Published ports as Docker prints them: `0.0.0.0:8080->80/tcp`. */
export function portsText(s: ContainerState): string {
  const ports = (s.options as unknown as { ports?: unknown }).ports;
  if (!Array.isArray(ports)) return "";
  return ports
    .map((p: { hostIp?: string; hostPort?: number; containerPort?: number; protocol?: string }) => {
      return `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol ?? "tcp"}`;
    })
    .join(", ");
}

function quotedCommand(s: ContainerState): string {
  const text = commandOf(s).join(" ");
  return `"${text.length > 20 ? `${text.slice(0, 19)}…` : text}"`;
}

/** What the container runs from: the image as named at `run`, or the --rootfs directory. */
export function imageText(s: ContainerState): string {
  return s.options.image ?? s.options.rootfs ?? "";
}

/** The `ps` table, newest first, columns padded like Docker's (three spaces apart). */
export function psTable(containers: ContainerState[], now = Date.now()): string {
  const header = ["CONTAINER ID", "IMAGE", "NAME", "COMMAND", "CREATED", "STATUS", "PORTS"];
  const rows = [...containers]
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
    .map((s) => [
      shortId(s.id),
      imageText(s),
      s.name,
      quotedCommand(s),
      `${humanDuration(since(s.createdAt, now))} ago`,
      statusText(s, now),
      portsText(s),
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** 1.2kB, 3.4MB: Docker's decimal units (network bytes, image sizes). */
export function decimalBytes(n: number | null): string {
  if (n === null) return "--";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)}${units[u]}`;
}
