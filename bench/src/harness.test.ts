import { describe, expect, it } from "vitest";
import { formatTable, median, ratio } from "./harness.ts";

describe("bench harness", () => {
  it("takes the median of odd and even sample counts", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no samples/);
  });

  it("reads ratios so that below 1 means Berth wins, for costs and for rates", () => {
    expect(ratio({ metric: "m", unit: "ms", ours: 10, peer: 20, peerName: "p" })).toBe(0.5);
    expect(
      ratio({
        metric: "m",
        unit: "req/s",
        ours: 200,
        peer: 100,
        peerName: "p",
        higherIsBetter: true,
      }),
    ).toBe(0.5);
  });

  it("prints one row per comparison with the ratio", () => {
    const table = formatTable([
      {
        benchmark: "b",
        comparison: { metric: "start", unit: "ms", ours: 12, peer: 24, peerName: "runc run" },
      },
    ]);
    expect(table.split("\n")).toHaveLength(3);
    expect(table).toContain("runc run");
    expect(table).toMatch(/0\.50\s*$/);
  });
});
