import { describe, expect, it } from "vitest";
import { readTar, type TarEntry } from "./tar-reader.ts";
import { buildTar, TAR_END, tarHeader, tarPadding, ustarHeaderBlock } from "./tar-writer.ts";

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function readAll(buf: Buffer, chunk = 7): Promise<{ entry: TarEntry; body: string }[]> {
  const out: { entry: TarEntry; body: string }[] = [];
  for await (const { entry, body } of readTar(chunked(buf, chunk))) {
    const parts: Buffer[] = [];
    for await (const b of body) parts.push(b);
    out.push({ entry, body: Buffer.concat(parts).toString() });
  }
  return out;
}

describe("tar reader and writer", () => {
  it("round-trips every entry type in small odd-sized chunks", async () => {
    const tar = buildTar([
      { name: "dir/", type: "dir", mode: 0o755, uid: 1, gid: 2, mtime: 1_700_000_000 },
      { name: "dir/file", type: "file", mode: 0o4755, body: "hello", uname: "u", gname: "g" },
      { name: "dir/link", type: "symlink", mode: 0o777, linkname: "file" },
      { name: "dir/hard", type: "hardlink", mode: 0o644, linkname: "dir/file" },
      { name: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
      { name: "dev/sda", type: "block", mode: 0o660, devmajor: 8, devminor: 0 },
      { name: "fifo", type: "fifo", mode: 0o600 },
    ]);
    const entries = await readAll(tar);
    expect(entries.map((e) => [e.entry.name, e.entry.type])).toEqual([
      ["dir/", "dir"],
      ["dir/file", "file"],
      ["dir/link", "symlink"],
      ["dir/hard", "hardlink"],
      ["dev/null", "char"],
      ["dev/sda", "block"],
      ["fifo", "fifo"],
    ]);
    expect(entries[0]!.entry).toMatchObject({ uid: 1, gid: 2, mtime: 1_700_000_000, mode: 0o755 });
    expect(entries[1]).toMatchObject({ body: "hello", entry: { mode: 0o4755, uname: "u" } });
    expect(entries[2]!.entry.linkname).toBe("file");
    expect(entries[4]!.entry).toMatchObject({ devmajor: 1, devminor: 3 });
  });

  it("uses PAX for long names, long links, big ids and xattrs", async () => {
    const long = `${"a".repeat(120)}/${"b".repeat(120)}/file`;
    const tar = buildTar([
      {
        name: long,
        type: "file",
        mode: 0o644,
        uid: 10_000_000,
        body: "x",
        xattrs: new Map([["user.bin", Buffer.from([0, 1, 2, 255])]]),
      },
      { name: "l", type: "symlink", mode: 0o777, linkname: "t".repeat(300) },
      { name: `${"p".repeat(150)}/short`, type: "file", mode: 0o644, body: "" },
    ]);
    const [a, b, c] = await readAll(tar, 512);
    expect(a!.entry.name).toBe(long);
    expect(a!.entry.uid).toBe(10_000_000);
    expect([...a!.entry.xattrs.get("user.bin")!]).toEqual([0, 1, 2, 255]);
    expect(b!.entry.linkname).toBe("t".repeat(300));
    expect(c!.entry.name).toBe(`${"p".repeat(150)}/short`); // ustar prefix field
  });

  it("reads GNU long names and base-256 numbers", async () => {
    const name = `gnu/${"n".repeat(200)}`;
    const nameBody = Buffer.from(`${name}\0`);
    const longHeader = ustarHeaderBlock(
      { name: "././@LongLink", type: "file", mode: 0, size: nameBody.length },
      "L",
      "././@LongLink",
      "",
    );
    const gnuMagic = (b: Buffer) => {
      b.write("ustar  \0", 257, 8, "latin1");
      b.fill(0x20, 148, 156);
      let sum = 0;
      for (const x of b) sum += x;
      b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
      return b;
    };
    const main = ustarHeaderBlock({ name: "x", type: "file", mode: 0o644, size: 0 }, "0", "x", "");
    main.fill(0, 108, 116);
    main[108] = 0x80;
    main.writeUInt32BE(5_000_000_000 % 2 ** 32, 112);
    main[111] = Math.floor(5_000_000_000 / 2 ** 32);
    const tar = Buffer.concat([
      gnuMagic(longHeader),
      nameBody,
      tarPadding(nameBody.length),
      gnuMagic(main),
      TAR_END,
    ]);
    const [e] = await readAll(tar);
    expect(e!.entry.name).toBe(name);
    expect(e!.entry.uid).toBe(5_000_000_000);
  });

  it("skips bodies the consumer does not read", async () => {
    const tar = buildTar([
      { name: "a", type: "file", mode: 0o644, body: "A".repeat(1000) },
      { name: "b", type: "file", mode: 0o644, body: "B" },
    ]);
    const names: string[] = [];
    for await (const { entry } of readTar(chunked(tar, 100))) names.push(entry.name);
    expect(names).toEqual(["a", "b"]);
  });

  it("rejects a bad checksum, truncation, unknown types and sparse files", async () => {
    const good = buildTar([{ name: "a", type: "file", mode: 0o644, body: "hello" }]);
    const bad = Buffer.from(good);
    bad[0] = "b".charCodeAt(0);
    await expect(readAll(bad)).rejects.toThrow(/checksum/);
    await expect(readAll(good.subarray(0, 512 + 3))).rejects.toThrow(/unexpected end/);
    const odd = ustarHeaderBlock({ name: "v", type: "file", mode: 0 }, "V", "v", "");
    await expect(readAll(Buffer.concat([odd, TAR_END]))).rejects.toThrow(/unsupported entry type/);
    const pax = Buffer.from("22 GNU.sparse.major=1\n");
    const paxHeader = tarHeader({ name: "s", type: "file", mode: 0, size: pax.length });
    paxHeader.write("x", 156, 1);
    paxHeader.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of paxHeader) sum += x;
    paxHeader.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    const sparse = Buffer.concat([
      paxHeader,
      pax,
      tarPadding(pax.length),
      tarHeader({ name: "s", type: "file", mode: 0 }),
      TAR_END,
    ]);
    await expect(readAll(sparse)).rejects.toThrow(/sparse/);
  });

  it("refuses a meta header larger than its cap", async () => {
    const h = ustarHeaderBlock({ name: "L", type: "file", mode: 0, size: 1 << 20 }, "L", "L", "");
    await expect(readAll(Buffer.concat([h, TAR_END]))).rejects.toThrow(/exceeds/);
  });
});
