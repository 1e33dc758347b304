import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LogFile, type LogLine, readLogs } from "./log-collector.ts";

const line = (n: number): LogLine => ({
  time: "2026-11-22T09:00:00.000000000Z",
  stream: n % 2 ? "stderr" : "stdout",
  log: `line ${n} ${"x".repeat(40)}\n`,
});

describe("LogFile rotation", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-logs-"));
    file = path.join(dir, "container.log");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps at most maxFiles generations of at most maxBytes each, newest lines last", () => {
    const bytesPerLine = Buffer.byteLength(`${JSON.stringify(line(0))}\n`);
    const log = new LogFile(file, bytesPerLine * 4, 3);
    for (let n = 0; n < 30; n++) log.write(line(n));
    log.close();

    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(["container.log", "container.log.1", "container.log.2"]);
    for (const f of files)
      expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(bytesPerLine * 4);

    const kept = readLogs(file, 3);
    // Three generations of four lines at most: the oldest lines were dropped, the newest kept in order.
    expect(kept.length).toBeLessThanOrEqual(12);
    expect(kept.at(-1)?.log).toContain("line 29 ");
    const numbers = kept.map((l) => Number(/line (\d+)/.exec(l.log)?.[1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(numbers[0]).toBeGreaterThan(0);
    expect(kept.map((l) => l.stream)).toContain("stderr");
  });

  it("with one file, truncates instead of keeping generations", () => {
    const log = new LogFile(file, 200, 1);
    for (let n = 0; n < 10; n++) log.write(line(n));
    log.close();
    expect(fs.readdirSync(dir)).toEqual(["container.log"]);
    expect(readLogs(file, 1).at(-1)?.log).toContain("line 9 ");
  });

  it("appends to an existing log after a restart instead of starting over", () => {
    const first = new LogFile(file, 1 << 20, 3);
    first.write(line(1));
    first.close();
    const second = new LogFile(file, 1 << 20, 3);
    second.write(line(2));
    second.close();
    expect(readLogs(file, 3).map((l) => l.log.split(" ")[1])).toEqual(["1", "2"]);
  });
});
