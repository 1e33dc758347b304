import { RuntimeError } from "../errors.ts";

/**
 * A strict streaming tar reader: POSIX ustar, PAX extended headers (`x`; global `g` headers are
 * read and ignored, like containerd), GNU long names/links (`L`/`K`) and GNU base-256 numbers.
 * Headers are checksummed; sparse files, multi-volume archives and unknown entry types are refused
 * rather than guessed at. Bodies stream out in the source's chunks; nothing is buffered whole.
 */
export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface TarEntry {
  /** The path as written in the archive (PAX `path` / GNU long name applied), not yet cleaned. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Body length in bytes (0 for everything but files). */
  size: number;
  /** Modification time in seconds since the epoch (fractional when PAX gave one). */
  mtime: number;
  /** Symlink target or hardlink target path. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.<name>` records; values are raw bytes. */
  xattrs: Map<string, Buffer>;
}

export interface TarItem {
  entry: TarEntry;
  /** The entry's body; whatever the consumer leaves unread is skipped before the next header. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
/** Caps on metadata records so that a hostile archive cannot make us buffer gigabytes. */
const MAX_PAX_BYTES = 1 << 20;
const MAX_LONGNAME_BYTES = 64 * 1024;

function tarError(message: string, context: Record<string, unknown> = {}): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", `invalid tar archive: ${message}`, context);
}

/** Pulls exact byte counts out of an async iterable of chunks. */
export class ByteSource {
  private pending: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Uint8Array>;
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.pending = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
    return true;
  }

  /** Exactly n bytes; null at a clean end of input; throws when the input ends part-way. */
  async readExact(n: number): Promise<Buffer | null> {
    if (!(await this.fill())) return null;
    if (this.pending.length >= n) {
      const out = this.pending.subarray(0, n);
      this.pending = this.pending.subarray(n);
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) throw tarError("unexpected end of archive");
      const take = Math.min(n - got, this.pending.length);
      parts.push(this.pending.subarray(0, take));
      this.pending = this.pending.subarray(take);
      got += take;
    }
    return Buffer.concat(parts, n);
  }

  /** Yields n bytes in pieces; `progress.left` counts down so a caller can skip what is unread. */
  async *stream(progress: { left: number }): AsyncGenerator<Buffer> {
    while (progress.left > 0) {
      if (!(await this.fill())) throw tarError("unexpected end of archive inside a file body");
      const take = Math.min(progress.left, this.pending.length);
      const out = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      progress.left -= take;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    const progress = { left: n };
    for await (const _ of this.stream(progress)) {
      // discard
    }
  }

  /** Reads and discards everything left (so that a hash over the input sees all of it). */
  async drain(): Promise<void> {
    this.pending = Buffer.alloc(0);
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
    }
  }
}

function cstring(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString("utf8");
}

/** An octal ASCII field, or GNU base-256 when the top bit of the first byte is set. */
export function parseNumeric(buf: Buffer, start: number, len: number, field: string): number {
  const b = buf.subarray(start, start + len);
  if ((b[0]! & 0x80) !== 0) {
    if ((b[0]! & 0x40) !== 0) throw tarError(`negative base-256 ${field}`);
    let v = BigInt(b[0]! & 0x3f);
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw tarError(`${field} too large`);
    return Number(v);
  }
  const text = b
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw tarError(`bad octal ${field} ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = parseNumeric(block, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

interface PaxRecords {
  fields: Map<string, string>;
  xattrs: Map<string, Buffer>;
}

/** Parses "<len> <key>=<value>\n" records; xattr values stay binary. */
export function parsePax(data: Buffer): PaxRecords {
  const fields = new Map<string, string>();
  const xattrs = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, off);
    if (space < 0) throw tarError("malformed PAX record");
    const lenText = data.toString("latin1", off, space);
    if (!/^[0-9]+$/.test(lenText)) throw tarError("malformed PAX record length");
    const len = Number(lenText);
    const end = off + len;
    if (len <= space - off + 1 || end > data.length || data[end - 1] !== 0x0a) {
      throw tarError("malformed PAX record");
    }
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw tarError("malformed PAX record (no key)");
    const key = record.toString("utf8", 0, eq);
    const value = record.subarray(eq + 1);
    if (key.startsWith("SCHILY.xattr.")) {
      xattrs.set(key.slice("SCHILY.xattr.".length), Buffer.from(value));
    } else if (key.startsWith("GNU.sparse.")) {
      throw tarError("sparse files are not supported");
    } else {
      fields.set(key, value.toString("utf8"));
    }
    off = end;
  }
  return { fields, xattrs };
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

function paxNumber(value: string, key: string): number {
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value))
    throw tarError(`bad PAX ${key} ${JSON.stringify(value)}`);
  const n = Number(value);
  if (key !== "mtime" && (!Number.isSafeInteger(n) || n < 0)) throw tarError(`bad PAX ${key}`);
  return n;
}

/**
 * Reads a tar stream entry by entry. After the end-of-archive marker the rest of the input is
 * drained, so a hash computed over the input covers every byte (layer diffIDs do).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarItem> {
  const src = new ByteSource(source);
  let pax: PaxRecords | null = null;
  let longName: string | null = null;
  let longLink: string | null = null;
  for (;;) {
    const block = await src.readExact(BLOCK);
    if (block === null) {
      if (pax || longName !== null || longLink !== null)
        throw tarError("archive ends after a meta header");
      return; // no end-of-archive marker: tolerated, like GNU tar and Go's reader
    }
    if (block.every((b) => b === 0)) {
      // End of archive: one or two zero blocks; anything after them is padding.
      await src.drain();
      return;
    }
    if (!checksumOk(block)) throw tarError("header checksum mismatch");
    const magic = block.toString("latin1", 257, 263);
    const isUstar = magic === "ustar\0";
    const isGnu = magic === "ustar " && block.toString("latin1", 263, 265) === " \0";
    if (!isUstar && !isGnu)
      throw tarError(`unsupported header format (magic ${JSON.stringify(magic)})`);
    const flag = String.fromCharCode(block[156]!);
    const size = parseNumeric(block, 124, 12, "size");
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      const cap = flag === "x" || flag === "g" ? MAX_PAX_BYTES : MAX_LONGNAME_BYTES;
      if (size > cap) throw tarError(`meta header of ${size} bytes exceeds ${cap}`);
      const data = (await src.readExact(padded)) ?? Buffer.alloc(0);
      if (data.length < padded) throw tarError("unexpected end of archive");
      const body = data.subarray(0, size);
      if (flag === "x") pax = parsePax(body);
      else if (flag === "g")
        parsePax(body); // validated, then ignored
      else {
        const nul = body.indexOf(0);
        const text = body.subarray(0, nul < 0 ? body.length : nul).toString("utf8");
        if (flag === "L") longName = text;
        else longLink = text;
      }
      continue;
    }

    const type = TYPES[flag];
    if (type === undefined) throw tarError(`unsupported entry type ${JSON.stringify(flag)}`);
    let name = cstring(block, 0, 100);
    if (isUstar) {
      const prefix = cstring(block, 345, 155);
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    const entry: TarEntry = {
      name: longName ?? name,
      type,
      mode: parseNumeric(block, 100, 8, "mode") & 0o7777,
      uid: parseNumeric(block, 108, 8, "uid"),
      gid: parseNumeric(block, 116, 8, "gid"),
      uname: cstring(block, 265, 32),
      gname: cstring(block, 297, 32),
      size,
      mtime: parseNumeric(block, 136, 12, "mtime"),
      linkname: longLink ?? cstring(block, 157, 100),
      devmajor: type === "char" || type === "block" ? parseNumeric(block, 329, 8, "devmajor") : 0,
      devminor: type === "char" || type === "block" ? parseNumeric(block, 337, 8, "devminor") : 0,
      xattrs: pax?.xattrs ?? new Map(),
    };
    if (pax) {
      const f = pax.fields;
      if (f.has("path")) entry.name = f.get("path")!;
      if (f.has("linkpath")) entry.linkname = f.get("linkpath")!;
      if (f.has("size")) entry.size = paxNumber(f.get("size")!, "size");
      if (f.has("uid")) entry.uid = paxNumber(f.get("uid")!, "uid");
      if (f.has("gid")) entry.gid = paxNumber(f.get("gid")!, "gid");
      if (f.has("mtime")) entry.mtime = paxNumber(f.get("mtime")!, "mtime");
      if (f.has("uname")) entry.uname = f.get("uname")!;
      if (f.has("gname")) entry.gname = f.get("gname")!;
    }
    pax = null;
    longName = null;
    longLink = null;
    if (entry.name === "") throw tarError("entry with an empty name");
    if (entry.name.includes("\0")) throw tarError("entry name contains NUL");

    // Like Go's archive/tar, only regular files have a body; other types' size fields are ignored.
    const bodySize = entry.type === "file" ? entry.size : 0;
    const progress = { left: bodySize };
    yield { entry, body: src.stream(progress) };
    await src.skip(progress.left);
    const pad = (BLOCK - (bodySize % BLOCK)) % BLOCK;
    if (pad > 0) await src.skip(pad);
  }
}
