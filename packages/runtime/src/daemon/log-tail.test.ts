import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogLine } from "../engine/log-collector.ts";
import { tailLogs } from "./log-tail.ts";

let dir: string;
let file: string;
const line = (log: string, time = new Date().toISOString()): string =>
  `${JSON.stringify({ time, stream: "stdout", log: `${log}\n` })}\n`;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-logtail-"));
  file = path.join(dir, "container.log");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function collect(opts: Partial<Parameters<typeof tailLogs>[0]> = {}): Promise<string[]> {
  const out: LogLine[] = [];
  await tailLogs({ file, maxFiles: 3, ...opts }, (l) => out.push(l));
  return out.map((l) => l.log.trim());
}

describe("tailLogs", () => {
  it("reads rotated generations oldest first, then applies --since and --tail", async () => {
    fs.writeFileSync(`${file}.2`, line("a", "2026-01-01T00:00:00Z"));
    fs.writeFileSync(`${file}.1`, line("b", "2026-01-02T00:00:00Z"));
    fs.writeFileSync(file, line("c", "2026-01-03T00:00:00Z") + line("d", "2026-01-04T00:00:00Z"));
    expect(await collect()).toEqual(["a", "b", "c", "d"]);
    expect(await collect({ tail: 2 })).toEqual(["c", "d"]);
    expect(await collect({ tail: 0 })).toEqual([]);
    expect(await collect({ since: new Date("2026-01-02T00:00:00Z") })).toEqual(["b", "c", "d"]);
  });

  it("follows appends and a rotation without losing or repeating lines, until the exit", async () => {
    fs.writeFileSync(file, line("1"));
    let exit!: () => void;
    const until = new Promise<void>((r) => {
      exit = r;
    });
    const seen = collect({ until });
    await new Promise((r) => setTimeout(r, 150));
    fs.appendFileSync(file, line("2"));
    // Half a line, then its end: only complete lines are emitted.
    const third = line("3");
    fs.appendFileSync(file, third.slice(0, 10));
    await new Promise((r) => setTimeout(r, 150));
    fs.appendFileSync(file, third.slice(10) + line("4"));
    fs.renameSync(file, `${file}.1`); // the engine rotates
    fs.writeFileSync(file, line("5"));
    await new Promise((r) => setTimeout(r, 150));
    fs.appendFileSync(file, line("6"));
    exit();
    expect(await seen).toEqual(["1", "2", "3", "4", "5", "6"]);
  });

  it("stops following when aborted and copes with a file that does not exist yet", async () => {
    const abort = new AbortController();
    const seen = collect({ until: new Promise(() => {}), signal: abort.signal });
    await new Promise((r) => setTimeout(r, 120));
    fs.writeFileSync(file, line("late"));
    await new Promise((r) => setTimeout(r, 250));
    abort.abort();
    expect(await seen).toEqual(["late"]);
  });
});
