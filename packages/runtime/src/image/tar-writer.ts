import type { TarEntryType } from "./tar-reader.ts";

/**
 * Tar headers in the PAX-extended ustar format (what Go's archive/tar, and so Docker, writes): a
 * plain ustar header when everything fits, preceded by a PAX `x` header for long names or links,
 * large numbers and `SCHILY.xattr.*` attributes. Used by `import` and by the tests' crafted archives.
 */
export interface TarHeaderInput {
  name: string;
  type: TarEntryType;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  size?: number;
  /** Whole seconds (layers are reproducible only with truncated times, as moby does). */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Uint8Array>;
}

const BLOCK = 512;
const FLAGS: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

/** Two zero blocks end an archive. */
export const TAR_END: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes that pad a body of `size` to the next block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function fitsOctal(value: number, fieldLen: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 8 ** (fieldLen - 1);
}

function writeOctal(block: Buffer, off: number, len: number, value: number): void {
  const v = fitsOctal(value, len) ? value : 0;
  block.write(`${v.toString(8).padStart(len - 1, "0")}\0`, off, len, "latin1");
}

function writeString(block: Buffer, off: number, len: number, value: string): void {
  Buffer.from(value, "utf8").copy(block, off, 0, len);
}

/** Splits a long path into ustar's prefix (≤155 bytes) and name (≤100 bytes), if possible. */
function splitUstar(name: string): { prefix: string; name: string } | null {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return { prefix: "", name };
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== "") {
      return { prefix, name: rest };
    }
  }
  return null;
}

function paxRecord(key: string, value: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), value, Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** One raw ustar header block with the given type flag (tests craft GNU and odd headers with it). */
export function ustarHeaderBlock(
  h: TarHeaderInput,
  flag: string,
  name: string,
  prefix: string,
): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, h.uid ?? 0);
  writeOctal(block, 116, 8, h.gid ?? 0);
  writeOctal(block, 124, 12, h.size ?? 0);
  writeOctal(block, 136, 12, Math.floor(h.mtime ?? 0));
  block.fill(0x20, 148, 156);
  block.write(flag, 156, 1, "latin1");
  writeString(block, 157, 100, h.linkname ?? "");
  block.write("ustar\0" + "00", 257, 8, "latin1");
  writeString(block, 265, 32, h.uname ?? "");
  writeString(block, 297, 32, h.gname ?? "");
  writeOctal(block, 329, 8, h.devmajor ?? 0);
  writeOctal(block, 337, 8, h.devminor ?? 0);
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return block;
}

/** The header block(s) for one entry: a PAX header first when ustar cannot hold everything. */
export function tarHeader(h: TarHeaderInput): Buffer {
  const records: Buffer[] = [];
  const split = splitUstar(h.name);
  if (split === null) records.push(paxRecord("path", Buffer.from(h.name)));
  if (h.linkname !== undefined && Buffer.byteLength(h.linkname) > 100) {
    records.push(paxRecord("linkpath", Buffer.from(h.linkname)));
  }
  const numbers: [string, number | undefined, number][] = [
    ["uid", h.uid, 8],
    ["gid", h.gid, 8],
    ["size", h.size, 12],
    ["mtime", h.mtime === undefined ? undefined : Math.floor(h.mtime), 12],
  ];
  for (const [key, value, len] of numbers) {
    if (value !== undefined && !fitsOctal(value, len)) {
      records.push(paxRecord(key, Buffer.from(String(value))));
    }
  }
  for (const [key, value] of [...(h.xattrs ?? new Map())].sort(([a], [b]) => (a < b ? -1 : 1))) {
    records.push(paxRecord(`SCHILY.xattr.${key}`, value));
  }
  const main = ustarHeaderBlock(
    h,
    FLAGS[h.type],
    split?.name ?? h.name.slice(0, 100),
    split?.prefix ?? "",
  );
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const base =
    h.name
      .split("/")
      .filter((c) => c !== "")
      .pop() ?? "entry";
  const paxHeader = ustarHeaderBlock(
    { name: "", type: "file", mode: 0o644, size: pax.length, mtime: h.mtime },
    "x",
    `PaxHeaders/${base}`.slice(0, 100),
    "",
  );
  return Buffer.concat([paxHeader, pax, tarPadding(pax.length), main]);
}

/** A whole archive in memory, for tests and small layers: entries with optional bodies. */
export function buildTar(
  entries: readonly (TarHeaderInput & { body?: string | Buffer })[],
): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    parts.push(tarHeader({ ...e, size: e.type === "file" ? body.length : 0 }));
    if (e.type === "file") parts.push(body, tarPadding(body.length));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}
