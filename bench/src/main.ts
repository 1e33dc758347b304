import { readdir } from "node:fs/promises";
import { type Benchmark, type Comparison, formatTable } from "./harness.ts";

/**
 * `npm run bench [-- NAME…]`: runs every benchmark in ./benchmarks (or the named ones) and prints
 * one table. A ratio below 1.0 means Berth beat the peer measured in the same run.
 */
async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const dir = new URL("./benchmarks/", import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  const rows: { benchmark: string; comparison: Comparison }[] = [];
  for (const file of files.sort()) {
    const { benchmark } = (await import(new URL(file, dir).href)) as { benchmark: Benchmark };
    if (wanted.length > 0 && !wanted.includes(benchmark.name)) continue;
    const skip = await benchmark.skipReason?.();
    if (skip) {
      process.stderr.write(`skipping ${benchmark.name}: ${skip}\n`);
      continue;
    }
    process.stderr.write(`-----> ${benchmark.name}\n`);
    const results = await benchmark.run((line) => process.stderr.write(`       ${line}\n`));
    for (const comparison of results) rows.push({ benchmark: benchmark.name, comparison });
  }
  process.stdout.write(
    `\n${formatTable(rows)}\n\nratio < 1.00: Berth is faster or smaller than the peer.\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
