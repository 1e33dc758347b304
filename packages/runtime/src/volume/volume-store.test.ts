import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import { VolumeStore } from "./volume-store.ts";

let root: string;
let store: VolumeStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-volstore-"));
  store = new VolumeStore(root);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof RuntimeError) return e.code;
    throw e;
  }
  return undefined;
}

describe("VolumeStore", () => {
  it("creates a named volume with a durable record and an empty data directory", () => {
    const { volume, created } = store.create("pgdata", { labels: { app: "shop" } });
    expect(created).toBe(true);
    expect(volume).toMatchObject({
      Name: "pgdata",
      Driver: "local",
      Labels: { app: "shop" },
      Anonymous: false,
      Scope: "local",
      Mountpoint: path.join(root, "volumes", "pgdata", "_data"),
    });
    expect(new Date(volume.CreatedAt).toISOString()).toBe(volume.CreatedAt);
    expect(fs.readdirSync(volume.Mountpoint)).toEqual([]);
    expect(store.isEmpty("pgdata")).toBe(true);
    // A second store on the same root (a restarted daemon) reads the same record.
    expect(new VolumeStore(root).inspect("pgdata")).toEqual(volume);
    // No temp files left beside the record.
    expect(fs.readdirSync(path.join(root, "volumes", "pgdata")).sort()).toEqual([
      "_data",
      "volume.json",
    ]);
  });

  it("returns an existing volume as it is (its data and labels kept)", () => {
    const first = store.create("cache").volume;
    fs.writeFileSync(path.join(first.Mountpoint, "f"), "x");
    const again = store.create("cache", { labels: { other: "1" } });
    expect(again.created).toBe(false);
    expect(again.volume).toEqual(first);
    expect(store.isEmpty("cache")).toBe(false);
  });

  it("makes anonymous volumes with 64-hex names, marked anonymous", () => {
    const a = store.create().volume;
    const b = store.create().volume;
    expect(a.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(a.Name).not.toBe(b.Name);
    expect(a.Anonymous).toBe(true);
    expect(store.list().map((v) => v.Name)).toEqual([a.Name, b.Name].sort());
  });

  it.each([
    ["a"],
    ["-vol"],
    [".hidden"],
    ["_x"],
    ["has/slash"],
    [".."],
    ["a b"],
    ["vol:ro"],
    ["é-accent"],
    [""],
  ])("refuses the name %j and creates nothing", (name) => {
    expect(codeOf(() => store.create(name))).toBe("INVALID_ARGUMENT");
    expect(() => store.create(name)).toThrow(/invalid volume name/);
    expect(
      fs.existsSync(path.join(root, "volumes")) ? fs.readdirSync(path.join(root, "volumes")) : [],
    ).toEqual([]);
  });

  it.each([["ab"], ["my_vol.1"], ["A-Z.0_9"], ["0x"]])("accepts the name %j", (name) => {
    expect(store.create(name).volume.Name).toBe(name);
  });

  it("refuses to remove a volume in use, naming the containers, and keeps its data", () => {
    const v = store.create("shared").volume;
    fs.writeFileSync(path.join(v.Mountpoint, "keep"), "1");
    const ids = ["a".repeat(64), "b".repeat(64)];
    expect(() => store.remove("shared", ids)).toThrow(
      `cannot remove volume shared: volume is in use - [${ids[0]}, ${ids[1]}]; remove those containers first`,
    );
    expect(codeOf(() => store.remove("shared", ids))).toBe("CONFLICT");
    expect(fs.readFileSync(path.join(v.Mountpoint, "keep"), "utf8")).toBe("1");
    store.remove("shared", []);
    expect(store.exists("shared")).toBe(false);
    expect(fs.readdirSync(path.join(root, "volumes"))).toEqual([]);
  });

  it("says NOT_FOUND for a volume that does not exist", () => {
    expect(codeOf(() => store.inspect("nope"))).toBe("NOT_FOUND");
    expect(codeOf(() => store.remove("nope"))).toBe("NOT_FOUND");
    expect(() => store.inspect("nope")).toThrow("no such volume: nope");
  });

  it("ignores directories without a record and finishes removals a crash interrupted", () => {
    fs.mkdirSync(path.join(root, "volumes", "half", "_data"), { recursive: true });
    fs.mkdirSync(path.join(root, "volumes", ".removing-old-1234", "_data"), { recursive: true });
    fs.writeFileSync(path.join(root, "volumes", ".removing-old-1234", "volume.json"), "{}");
    const restarted = new VolumeStore(root);
    expect(restarted.list()).toEqual([]);
    expect(fs.readdirSync(path.join(root, "volumes"))).toEqual(["half"]);
    // The next create of that name takes the directory over.
    expect(restarted.create("half").created).toBe(true);
    expect(restarted.list().map((v) => v.Name)).toEqual(["half"]);
  });

  it("sizes a volume's data without following symlinks", () => {
    const v = store.create("sized").volume;
    fs.mkdirSync(path.join(v.Mountpoint, "d"));
    fs.writeFileSync(path.join(v.Mountpoint, "d", "f"), Buffer.alloc(1000));
    fs.symlinkSync("/etc", path.join(v.Mountpoint, "link"));
    expect(store.sizeOf("sized")).toBe(1000 + "/etc".length);
  });
});
