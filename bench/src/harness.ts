/**
 * The benchmark harness: each benchmark measures our figure and a peer's figure in the same run
 * (same machine, same moment) and the table shows their ratio. Nothing here passes or fails.
 */
export interface Comparison {
  /** What was measured, e.g. "cold start to first query". */
  metric: string;
  unit: "ms" | "MiB" | "req/s";
  ours: number;
  peer: number;
  /** The peer's name as a reader knows it, e.g. "pg_ctl start -w". */
  peerName: string;
  /** For rates, bigger is better and the ratio is read the other way. */
  higherIsBetter?: boolean;
  note?: string;
}

export interface Benchmark {
  name: string;
  /** Debian packages or conditions the benchmark needs; it is skipped with this reason if unmet. */
  skipReason?: () => Promise<string | undefined>;
  run(log: (line: string) => void): Promise<Comparison[]>;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times an async action in milliseconds. */
export async function timeMs(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** ours/peer for costs; peer/ours for rates: below 1.0 always means we beat the peer. */
export function ratio(c: Comparison): number {
  return c.higherIsBetter ? c.peer / c.ours : c.ours / c.peer;
}

export function formatTable(rows: { benchmark: string; comparison: Comparison }[]): string {
  const header = ["benchmark", "metric", "berth", "peer", "peer figure", "ratio"];
  const body = rows.map(({ benchmark, comparison: c }) => [
    benchmark,
    c.metric,
    `${round(c.ours)} ${c.unit}`,
    c.peerName,
    `${round(c.peer)} ${c.unit}`,
    `${ratio(c).toFixed(2)}${c.note ? `  (${c.note})` : ""}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function round(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
