import { describe, expect, it } from "vitest";
import type { ContainerState } from "../container/container-state.ts";
import { humanDuration, psTable, statusText } from "./container-format.ts";
import { parseSince } from "./logs-verb.ts";

const NOW = Date.parse("2026-11-22T12:00:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function state(over: Partial<ContainerState>): ContainerState {
  return {
    id: "0123456789abcdef".repeat(4),
    name: "web",
    status: "running",
    createdAt: ago(10),
    startedAt: ago(3),
    finishedAt: null,
    pid: 42,
    pidStartTime: "1",
    exitCode: null,
    signal: null,
    oomKilled: false,
    error: null,
    options: { rootfs: "/rootfs", command: ["sleep", "3600"] },
    ...over,
  } as unknown as ContainerState;
}

describe("container output formats", () => {
  it("words durations like docker", () => {
    expect(humanDuration(300)).toBe("Less than a second");
    expect(humanDuration(1000)).toBe("1 second");
    expect(humanDuration(42_000)).toBe("42 seconds");
    expect(humanDuration(90_000)).toBe("About a minute");
    expect(humanDuration(5 * 60_000)).toBe("5 minutes");
    expect(humanDuration(3 * 3_600_000)).toBe("3 hours");
    expect(humanDuration(3 * 86_400_000)).toBe("3 days");
  });

  it("shows Up, Exited with code and OOMKilled, and Created", () => {
    expect(statusText(state({}), NOW)).toBe("Up 3 seconds");
    expect(
      statusText(
        state({ status: "exited", exitCode: 137, finishedAt: ago(2), oomKilled: true }),
        NOW,
      ),
    ).toBe("Exited (137) 2 seconds ago (OOMKilled)");
    expect(statusText(state({ status: "created", startedAt: null }), NOW)).toBe("Created");
  });

  it("prints a ps table with 12-hex ids, the quoted command truncated, and ports", () => {
    const table = psTable(
      [
        state({}),
        state({
          id: "f".repeat(64),
          name: "api",
          options: {
            image: "shop:v2",
            command: ["sh", "-c", "while true; do echo hi; done"],
            ports: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
          } as unknown as ContainerState["options"],
        }),
      ],
      NOW,
    ).split("\n");
    expect(table[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+NAME\s+COMMAND\s+CREATED\s+STATUS\s+PORTS$/);
    expect(table[1]).toMatch(
      /^0123456789ab\s+\/rootfs\s+web\s+"sleep 3600"\s+10 seconds ago\s+Up 3 seconds$/,
    );
    expect(table[2]).toMatch(/^f{12}\s+shop:v2\s+api\s+/);
    expect(table[2]).toContain('"sh -c while true; d…"');
    expect(table[2]).toMatch(/0\.0\.0\.0:8080->80\/tcp$/);
  });

  it("reads --since as a time, Unix seconds or a duration before now", () => {
    expect(parseSince("2026-11-22T11:00:00Z", NOW)).toBe("2026-11-22T11:00:00.000Z");
    expect(parseSince("10m", NOW)).toBe("2026-11-22T11:50:00.000Z");
    expect(parseSince("1795000000", NOW)).toBe(new Date(1795000000 * 1000).toISOString());
    expect(() => parseSince("yesterday-ish", NOW)).toThrow(
      /invalid value "yesterday-ish" for --since/,
    );
  });
});
